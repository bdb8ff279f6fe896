// The model-account stacks written as an idiomatic TypeScript CDK app would
// (plain JavaScript: same runtime, same aws-cdk-lib), for
// scripts/bench-synth.sh to compare with the Go app. It reads the planned
// estate that `benchsynth -dump` writes (context key `estate`) and creates one
// construct per role holding a CfnRole, a CfnManagedPolicy per policy and a
// CfnOutput of the role's ARN, the construct tree the Go app's logical ids
// come from. Tags are applied once at the app; cdk-nag's AwsSolutions pack is
// on, as in the Go app. It prints the same phase lines as the Go app.
//
// Run it with NODE_PATH pointing at node_modules holding aws-cdk-lib,
// constructs and cdk-nag of the versions the Go app embeds (bench-synth.sh
// unpacks them from the Go module cache).
'use strict';
const { performance } = require('perf_hooks');
const fs = require('fs');

let mark = 0;
function phase(name) {
  if (!process.env.GENAI_PHASES) return;
  const now = performance.now();
  process.stderr.write(`genai-estate phase ${name} ${((now - mark) / 1000).toFixed(3)}s\n`);
  mark = now;
}

const cdk = require('aws-cdk-lib');
const iam = require('aws-cdk-lib/aws-iam');
const { Construct } = require('constructs');
const nag = require('cdk-nag');

// A role, its managed policies and an output of its ARN.
class InvokeRole extends Construct {
  constructor(scope, id, props) {
    super(scope, id);
    const r = props.role;
    this.role = new iam.CfnRole(this, 'Role', {
      roleName: r.roleName,
      description: r.description,
      assumeRolePolicyDocument: r.trust,
      maxSessionDuration: 3600,
      tags: r.tags.map((t) => ({ key: t.Key, value: t.Value })),
    });
    if (props.provider) this.role.addResourceDependency(props.provider);
    this.policies = r.policies.map((p) => new iam.CfnManagedPolicy(this, p.id, {
      managedPolicyName: p.name,
      description: p.description,
      policyDocument: p.document,
      roles: [this.role.ref],
    }));
    new cdk.CfnOutput(this, 'Arn', { description: `ARN of ${r.roleName}`, value: this.role.attrArn });
  }
}

// One shard of a shared model account.
class ModelAccountStack extends cdk.Stack {
  constructor(scope, id, props) {
    const s = props.stack;
    super(scope, id, { stackName: s.name, description: s.description, env: { account: s.account, region: s.region } });
    let provider;
    if (s.provider) {
      const p = s.provider;
      provider = new iam.CfnOIDCProvider(this, p.id, {
        url: p.url,
        clientIdList: p.clientIdList,
        thumbprintList: p.thumbprintList,
        tags: p.tags.map((t) => ({ key: t.Key, value: t.Value })),
      });
    }
    for (const role of s.roles) new InvokeRole(this, role.subject, { role, provider });
  }
}

const app = new cdk.App();
phase('start');
const estate = JSON.parse(fs.readFileSync(app.node.tryGetContext('estate'), 'utf8'));
phase('config');
phase('plan'); // planned in Go: the dump is the plan
if (app.node.tryGetContext('@aws-cdk/core:defaultCrossStackReferences') === undefined) {
  app.node.setContext('@aws-cdk/core:defaultCrossStackReferences', 'strong');
}
cdk.Aspects.of(app).add(new nag.AwsSolutionsChecks({ verbose: true }));
for (const t of estate.tags) cdk.Tags.of(app).add(t.Key, t.Value);
const stacks = new Map();
for (const s of estate.stacks) {
  const stack = new ModelAccountStack(app, s.name, { stack: s });
  if (s.dependsOn) stack.addStackDependency(stacks.get(s.dependsOn), "the first stack owns the account's OIDC provider");
  stacks.set(s.name, stack);
}
phase('constructs');
app.synth();
phase('synth');
