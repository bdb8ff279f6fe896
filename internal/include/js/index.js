// The node side of package include (see include.go): a CloudFormation
// template's resources and outputs become L1 constructs, as
// cloudformation-include makes them (the same CfnParser and each L1's own
// _fromCloudFormation, logical ids kept), from a template the Go side hands
// over as one JSON string. It skips what made CfnInclude slow for many
// resources: reading the template from a file with a YAML parser, jsii's
// decoding of every value, and resolving the L1's module once per resource.
'use strict';

let cdk, cfnParse, Construct;
const classes = new Map();

// The L1 class of a resource type: aws-cdk-lib's module of the service
// (AWS::IAM::Role is aws-iam's CfnRole), checked against the type the class
// declares, so an unexpected type fails instead of becoming a wrong class.
function l1Class(type) {
  let cls = classes.get(type);
  if (cls === undefined) {
    const [vendor, service, name] = type.split('::');
    if (vendor !== 'AWS' || !service || !name) {
      throw new Error(`include: resource type ${type} has no aws-cdk-lib L1 class here`);
    }
    const mod = require(`aws-cdk-lib/aws-${service.toLowerCase()}`);
    cls = mod[`Cfn${name}`];
    if (!cls || cls.CFN_RESOURCE_TYPE_NAME !== type) {
      throw new Error(`include: aws-cdk-lib/aws-${service.toLowerCase()} has no L1 class for ${type}`);
    }
    classes.set(type, cls);
  }
  return cls;
}

class Include {
  // resources adds a construct `id` to scope holding the template's
  // resources and outputs, and returns it.
  static resources(scope, id, template) {
    cdk = cdk || require('aws-cdk-lib');
    cfnParse = cfnParse || require('aws-cdk-lib/core/lib/helpers-internal');
    Construct = Construct || require('constructs').Construct;
    const tpl = JSON.parse(template);
    const sections = Object.keys(tpl).filter((k) => k !== 'Resources' && k !== 'Outputs');
    if (sections.length > 0) {
      throw new Error(`include: template sections ${sections.join(', ')} are not supported`);
    }
    const holder = new Construct(scope, id);
    const resources = tpl.Resources || {};
    const made = {};
    const creating = new Set();
    const finder = {
      findCondition() { return undefined; },
      findMapping() { return undefined; },
      findResource(lid) { return lid in resources ? create(lid) : undefined; },
      findRefTarget(name) { return this.findResource(name); },
    };
    const parser = new cfnParse.CfnParser({ finder, parameters: {} });
    // Dependencies first, as CfnInclude creates them: the construct tree's
    // order, and so the template's, is the same.
    function create(lid) {
      if (made[lid]) return made[lid];
      if (creating.has(lid)) throw new Error(`include: resource ${lid} depends on itself`);
      creating.add(lid);
      const attrs = resources[lid];
      const l1 = l1Class(attrs.Type)._fromCloudFormation(holder, lid, attrs, { parser });
      l1.overrideLogicalId(lid);
      creating.delete(lid);
      made[lid] = l1;
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
      if (unsupported.length > 0) throw new Error(`include: output ${lid} has ${unsupported.join(', ')}`);
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
