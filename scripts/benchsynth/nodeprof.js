// CPU profile of the node process the jsii runtime starts for the Go app,
// and a summary of it. node refuses --cpu-prof in NODE_OPTIONS, and the jsii
// runtime starts node itself, so this file is loaded with --require, starts
// V8's profiler in the kernel process (lib/program.js) and writes
// $PROF_DIR/<pid>.cpuprofile at exit:
//
//   NODE_OPTIONS="--require $PWD/scripts/benchsynth/nodeprof.js" PROF_DIR=/tmp/prof \
//     go run ./scripts/benchsynth -app ./app -estates 50x400 -count=false
//
// Run as a script, it summarises a profile: self and inclusive time by
// function (each function counted once per sample), optionally only over
// samples whose stack holds a given function (e.g. CfnInclude, synth):
//
//   node scripts/benchsynth/nodeprof.js /tmp/prof/<pid>.cpuprofile [top] [function]
'use strict';
const fs = require('fs');

if (require.main === module) {
  summarise(process.argv[2], +(process.argv[3] || 40), process.argv[4]);
} else if ((process.argv[1] || '').endsWith('program.js') || process.env.PROF_ALL) {
  const inspector = require('inspector');
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 }); // µs
  session.post('Profiler.start');
  process.on('exit', () => {
    // The inspector answers synchronously within the process: safe at exit.
    session.post('Profiler.stop', (err, res) => {
      if (!err) fs.writeFileSync(`${process.env.PROF_DIR || '.'}/${process.pid}.cpuprofile`, JSON.stringify(res.profile));
    });
  });
}

function summarise(file, top, only) {
  const p = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map();
  const parent = new Map();
  for (const n of p.nodes) {
    byId.set(n.id, n);
    for (const c of n.children || []) parent.set(c, n.id);
  }
  const key = (n) => {
    const f = n.callFrame;
    const url = f.url.replace(/.*node_modules\//, '').replace(/.*\/lib\//, 'lib/');
    return `${f.functionName || '(anonymous)'} ${url}${url ? ':' + f.lineNumber : ''}`;
  };
  const self = new Map();
  const incl = new Map();
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] || 0;
    const stack = [];
    for (let x = id; x !== undefined; x = parent.get(x)) stack.push(byId.get(x));
    if (only && !stack.some((n) => n.callFrame.functionName === only)) return;
    total += dt;
    self.set(key(stack[0]), (self.get(key(stack[0])) || 0) + dt);
    for (const k of new Set(stack.map(key))) incl.set(k, (incl.get(k) || 0) + dt);
  });
  for (const [title, m] of [['self', self], ['inclusive', incl]]) {
    console.log(`\n${title} time${only ? ` in samples under ${only}` : ''} (of ${(total / 1e6).toFixed(2)} s sampled)`);
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top).forEach(([k, v]) => {
      console.log(`${(v / 1e6).toFixed(3).padStart(8)} s ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
    });
  }
}
