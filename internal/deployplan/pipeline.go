package deployplan

import (
	"fmt"
	"slices"
)

// CodePipeline's structural quotas (AWS CodePipeline user guide, "Quotas"),
// and what CDK Pipelines spends of them.
const (
	MaxActionsPerStage   = 50
	MaxStagesPerPipeline = 50
	// MaxActionsPerPipeline is this project's budget for one pipeline:
	// past it a pipeline is slow to render and to update.
	MaxActionsPerPipeline = 1000
	// ActionsPerStack: CDK Pipelines creates a change set, then executes it.
	ActionsPerStack = 2
	// ReservedActions and ReservedStages are a pipeline's own: Source, Build
	// (synth), UpdatePipeline (self-mutation), asset publishing, the access
	// review with its approval, and the step that starts the next pipeline.
	ReservedActions = 12
	ReservedStages  = 6
)

// Stage is one CDK Pipelines stage: the stacks of one group (an account's
// shards, which depend on the first; the RAG stacks, which share exports).
type Stage struct {
	Name   string
	Stacks []Step
}

// PipelineWave is one CodePipeline stage: CDK Pipelines stages deployed in parallel.
type PipelineWave struct {
	Name   string
	Phase  string
	Stages []Stage
}

// Actions counts the wave's CodePipeline actions.
func (w PipelineWave) Actions() int {
	n := 0
	for _, s := range w.Stages {
		n += ActionsPerStack * len(s.Stacks)
	}
	return n
}

// Layout arranges the deployable stacks (not the bootstrap or pipeline
// stacks) into pipelines of waves of stages, in the deploy plan's order:
// a wave holds at most waveSize stacks and never mixes phases; a pipeline
// holds at most MaxActionsPerPipeline actions and MaxStagesPerPipeline
// stages, its own included. Past them the waves continue in a next pipeline,
// which the previous one starts when it succeeds, so the order holds across
// pipelines.
func Layout(stacks []Stack, waveSize int) ([][]PipelineWave, error) {
	if waveSize <= 0 || waveSize*ActionsPerStack > MaxActionsPerStage {
		return nil, fmt.Errorf("%d stacks per wave: a wave is one CodePipeline stage of at most %d actions, %d per stack", waveSize, MaxActionsPerStage, ActionsPerStack)
	}
	var deployable []Stack
	for _, s := range stacks {
		if s.Kind != Bootstrap && s.Kind != Pipeline {
			deployable = append(deployable, s)
		}
	}
	// Stacks grouped into stages per phase; CDK orders the stacks of a
	// stage by their dependencies, so the plan's dependency levels fold in.
	plan := Order(nil, deployable, len(deployable)+1)
	type phaseStages struct {
		phase  string
		stages []Stage
		index  map[string]int
	}
	var byPhase []*phaseStages
	for _, pw := range plan.Waves {
		if len(byPhase) == 0 || byPhase[len(byPhase)-1].phase != pw.Phase {
			byPhase = append(byPhase, &phaseStages{phase: pw.Phase, index: map[string]int{}})
		}
		ps := byPhase[len(byPhase)-1]
		for _, st := range pw.Include {
			g := st.group
			if g == "" {
				g = st.Stack
			}
			i, ok := ps.index[g]
			if !ok {
				i = len(ps.stages)
				ps.index[g] = i
				ps.stages = append(ps.stages, Stage{Name: g})
			}
			ps.stages[i].Stacks = append(ps.stages[i].Stacks, st)
		}
	}
	var waves []PipelineWave
	for _, ps := range byPhase {
		for i, s := range ps.stages {
			if len(s.Stacks) > waveSize {
				return nil, fmt.Errorf("stage %s has %d stacks, more than a wave of %d holds", s.Name, len(s.Stacks), waveSize)
			}
			if i == 0 || stackCount(&waves[len(waves)-1])+len(s.Stacks) > waveSize {
				waves = append(waves, PipelineWave{Phase: ps.phase})
			}
			last := &waves[len(waves)-1]
			last.Stages = append(last.Stages, s)
		}
	}
	var pipelines [][]PipelineWave
	actions, count := 0, 0
	for _, w := range waves {
		if len(pipelines) == 0 || actions+w.Actions() > MaxActionsPerPipeline-ReservedActions || count+1 > MaxStagesPerPipeline-ReservedStages {
			pipelines = append(pipelines, nil)
			actions, count = 0, 0
		}
		actions += w.Actions()
		count++
		last := &pipelines[len(pipelines)-1]
		w.Name = fmt.Sprintf("Wave%02d", len(*last)+1)
		*last = append(*last, w)
	}
	return pipelines, nil
}

func stackCount(w *PipelineWave) int {
	n := 0
	for _, s := range w.Stages {
		n += len(s.Stacks)
	}
	return n
}

// StackNames lists a wave's stacks.
func (w PipelineWave) StackNames() []string {
	var out []string
	for _, s := range w.Stages {
		for _, st := range s.Stacks {
			out = append(out, st.Stack)
		}
	}
	return slices.Clip(out)
}
