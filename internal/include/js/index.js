// The node side of package include (see include.go): a CloudFormation
// template's resources and outputs become L1 constructs, as
// cloudformation-include makes them (the same CfnParser, the same type to
// class table, each L1's own _fromCloudFormation, logical ids kept), from a
// template the Go side hands over as one JSON string. It skips what made
// CfnInclude slow for many resources: reading the template from a file with
// a YAML parser, jsii's decoding of every value, and resolving the L1's
// module once per resource.
'use strict';

const path = require('path');

let cdk, cfnParse, Construct, typeToClass;
const classes = new Map();

// Resource attributes CfnInclude maps; any other is kept as an override.
const knownAttributes = new Set(['Condition', 'DependsOn', 'Description', 'Metadata', 'Properties', 'Type', 'Version',
  'CreationPolicy', 'DeletionPolicy', 'UpdatePolicy', 'UpdateReplacePolicy']);

// The L1 class of a resource type, from the table cloudformation-include
// reads (aws-cdk-lib/cloudformation-include/cfn-types-2-classes.json), or
// undefined where CfnInclude makes a plain CfnResource.
function l1Class(type) {
  if (classes.has(type)) return classes.get(type);
  if (!typeToClass) {
    const dir = path.dirname(require.resolve('aws-cdk-lib/cloudformation-include'));
    typeToClass = JSON.parse(require('fs').readFileSync(path.join(dir, 'cfn-types-2-classes.json'), 'utf8'));
  }
  let cls;
  const fqn = Object.hasOwn(typeToClass, type) ? typeToClass[type] : undefined;
  if (fqn && type !== 'AWS::CloudFormation::CustomResource') {
    const [moduleName, ...className] = fqn.split('.');
    cls = require(moduleName)[className.join('.')];
  }
  classes.set(type, cls);
  return cls;
}

class Include {
  // resources adds a construct `id` to scope holding the template's
  // resources and outputs, and returns it.
  static resources(scope, id, template) {
    cdk = cdk || require('aws-cdk-lib');
    cfnParse = cfnParse || require('aws-cdk-lib/core/lib/helpers-internal');
    Construct = Construct || require('constructs').Construct;
    const holder = new Construct(scope, id);
    const fail = (what) => { throw new Error(`include ${holder.node.path}: ${what}`); };
    let tpl;
    try {
      tpl = JSON.parse(template);
    } catch (e) {
      fail(`the template is not JSON: ${e.message}`);
    }
    const sections = Object.keys(tpl).filter((k) => k !== 'Resources' && k !== 'Outputs');
    if (sections.length > 0) fail(`template sections ${sections.join(', ')} are not supported`);
    const resources = tpl.Resources || {};
    const has = (lid) => Object.hasOwn(resources, lid);
    const made = new Map();
    const chain = [];
    const finder = {
      findCondition() { return undefined; },
      findMapping() { return undefined; },
      findResource(lid) { return has(lid) ? create(lid) : undefined; },
      findRefTarget(name) { return this.findResource(name); },
    };
    const parser = new cfnParse.CfnParser({ finder, parameters: {} });
    // Dependencies first, as CfnInclude creates them: the construct tree's
    // order, and so the template's, is the same.
    function create(lid) {
      if (made.has(lid)) return made.get(lid);
      if (chain.includes(lid)) fail(`a dependency cycle: ${chain.concat(lid).join(' depends on ')}`);
      chain.push(lid);
      const attrs = resources[lid];
      if (attrs === null || typeof attrs !== 'object' || typeof attrs.Type !== 'string') fail(`resource ${lid} has no Type`);
      const cls = l1Class(attrs.Type);
      let l1;
      if (cls) {
        l1 = cls._fromCloudFormation(holder, lid, attrs, { parser });
      } else {
        l1 = new cdk.CfnResource(holder, lid, { type: attrs.Type, properties: parser.parseValue(attrs.Properties) });
        parser.handleAttributes(l1, attrs, lid);
      }
      l1.overrideLogicalId(lid);
      for (const [name, value] of Object.entries(attrs)) {
        if (!knownAttributes.has(name)) l1.addOverride(name, parser.parseValue(value));
      }
      chain.pop();
      made.set(lid, l1);
      return l1;
    }
    for (const lid of Object.keys(resources)) create(lid);
    // Outputs in a scope of their own, as CfnInclude keeps them: the same
    // construct paths for code that looks them up.
    const outputScope = new Construct(holder, '$Outputs');
    const outputs = tpl.Outputs || {};
    for (const lid of Object.keys(outputs)) {
      const o = parser.parseValue(outputs[lid]);
      const unsupported = Object.keys(o).filter((k) => k !== 'Value' && k !== 'Description' && k !== 'Export');
      if (unsupported.length > 0) fail(`output ${lid} has ${unsupported.join(', ')}, which is not supported`);
      new cdk.CfnOutput(outputScope, lid, {
        value: o.Value,
        description: o.Description,
        exportName: o.Export ? o.Export.Name : undefined,
      }).overrideLogicalId(lid);
    }
    return holder;
  }
}

module.exports = { Include };
