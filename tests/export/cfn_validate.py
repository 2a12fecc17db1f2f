#!/usr/bin/python3
"""A CloudFormation template checked against the CloudFormation resource
specification (npm's @aws-cdk/cfnspec, installed in tests/export by
scripts/install-deps.sh): every resource type exists, every property is
known and of the right type (primitives, lists, maps, property types,
recursively), every required property is present, every Ref / Fn::GetAtt /
${} of Fn::Sub resolves to a resource, parameter or pseudo parameter (and a
GetAtt's attribute exists), DependsOn names resources, and the resources'
references make no cycle.

usage: cfn_validate.py TEMPLATE.json   (prints the problems, exits 1 if any)
"""
import json
import os
import re
import sys

SPEC = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                    "node_modules", "@aws-cdk", "cfnspec", "spec", "specification.json")
PSEUDO = {"AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition", "AWS::Region",
          "AWS::StackId", "AWS::StackName", "AWS::URLSuffix"}
RESOURCE_KEYS = {"Type", "Properties", "DependsOn", "DeletionPolicy", "UpdateReplacePolicy", "Condition", "Metadata",
                 "CreationPolicy", "UpdatePolicy"}
SUB_NAME = re.compile(r"\$\{([^!}][^}]*)\}")


def load_spec(path=SPEC):
    if not os.path.exists(path):
        raise FileNotFoundError("no CloudFormation resource specification at %s: scripts/install-deps.sh installs it "
                                "(npm ci in tests/export)" % path)
    with open(path) as f:
        return json.load(f)


def intrinsic(value):
    """The function name of {"Ref": ...} / {"Fn::X": ...}, or None."""
    if isinstance(value, dict) and len(value) == 1:
        key = next(iter(value))
        if key == "Ref" or key.startswith("Fn::") or key == "Condition":
            return key
    return None


class Validator:
    def __init__(self, spec, template):
        self.spec, self.template = spec, template
        self.resources = template.get("Resources", {})
        self.parameters = template.get("Parameters", {})
        self.problems = []
        self.edges = {name: set() for name in self.resources}

    def problem(self, where, text):
        self.problems.append("%s: %s" % (where, text))

    # ---- types ----

    def check_primitive(self, where, value, primitive):
        ok = {"String": lambda v: isinstance(v, str),
              "Integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
              "Long": lambda v: isinstance(v, int) and not isinstance(v, bool),
              "Double": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
              "Boolean": lambda v: isinstance(v, bool),
              "Timestamp": lambda v: isinstance(v, str),
              "Json": lambda v: isinstance(v, (dict, str))}[primitive]
        if not ok(value):
            self.problem(where, "%r is not of type %s" % (value, primitive))

    def property_type(self, resource_type, name):
        if name == "Tag":
            return self.spec["PropertyTypes"].get("Tag")
        return self.spec["PropertyTypes"].get("%s.%s" % (resource_type, name))

    def check_value(self, where, value, prop, resource_type):
        if intrinsic(value):
            return  # its references are checked by check_references
        if "PrimitiveType" in prop:
            self.check_primitive(where, value, prop["PrimitiveType"])
        elif prop.get("Type") in ("List", "Map"):
            kind = prop["Type"]
            if kind == "List" and not isinstance(value, list):
                return self.problem(where, "is not a list")
            if kind == "Map" and not isinstance(value, dict):
                return self.problem(where, "is not a map")
            items = enumerate(value) if kind == "List" else value.items()
            for key, item in items:
                item_where = "%s[%s]" % (where, key)
                if intrinsic(item):
                    continue
                if "PrimitiveItemType" in prop:
                    self.check_primitive(item_where, item, prop["PrimitiveItemType"])
                else:
                    self.check_object(item_where, item, self.property_type(resource_type, prop["ItemType"]),
                                      prop["ItemType"], resource_type)
        else:
            self.check_object(where, value, self.property_type(resource_type, prop.get("Type")), prop.get("Type"),
                              resource_type)

    def check_object(self, where, value, type_spec, type_name, resource_type):
        if type_spec is None:
            return self.problem(where, "property type %s is not in the specification" % type_name)
        if not isinstance(value, dict):
            return self.problem(where, "is not an object of type %s" % type_name)
        known = type_spec.get("Properties", {})
        for key, item in value.items():
            if key not in known:
                self.problem(where, "unknown property %s (of %s)" % (key, type_name))
            else:
                self.check_value("%s.%s" % (where, key), item, known[key], resource_type)
        for key, prop in known.items():
            if prop.get("Required") and key not in value:
                self.problem(where, "required property %s (of %s) is missing" % (key, type_name))

    # ---- references ----

    def resolve(self, where, owner, name, attribute=None):
        if name in self.resources:
            if owner:
                self.edges[owner].add(name)
            if attribute is not None:
                resource_type = self.resources[name].get("Type", "")
                attributes = self.spec["ResourceTypes"].get(resource_type, {}).get("Attributes", {})
                if attribute not in attributes:
                    self.problem(where, "Fn::GetAtt %s.%s: %s has no attribute %s"
                                 % (name, attribute, resource_type, attribute))
        elif attribute is None and (name in self.parameters or name in PSEUDO):
            return
        else:
            self.problem(where, "%s names %s, which is no resource%s" % (
                "Fn::GetAtt" if attribute is not None else "Ref", name,
                "" if attribute is not None else ", parameter or pseudo parameter"))

    def check_references(self, where, value, owner):
        if isinstance(value, list):
            for i, item in enumerate(value):
                self.check_references("%s[%d]" % (where, i), item, owner)
            return
        if not isinstance(value, dict):
            return
        fn = intrinsic(value)
        if fn == "Ref":
            self.resolve(where, owner, value["Ref"])
        elif fn == "Fn::GetAtt":
            target = value[fn]
            if isinstance(target, str):
                target = target.split(".", 1)
            if not (isinstance(target, list) and len(target) == 2):
                self.problem(where, "Fn::GetAtt takes [resource, attribute]")
            else:
                self.resolve(where, owner, target[0], target[1])
        elif fn == "Fn::Sub":
            text, variables = (value[fn], {}) if isinstance(value[fn], str) else (value[fn][0], value[fn][1])
            for name in SUB_NAME.findall(text):
                if name in variables:
                    continue
                if "." in name and not name.startswith("AWS::"):
                    self.resolve(where, owner, *name.split(".", 1))
                else:
                    self.resolve(where, owner, name)
            self.check_references(where, variables, owner)
        else:
            for key, item in value.items():
                self.check_references("%s.%s" % (where, key), item, owner)

    def check_cycles(self):
        state = {}

        def visit(node, path):
            state[node] = "open"
            for nxt in sorted(self.edges[node]):
                if state.get(nxt) == "open":
                    cycle = path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt]
                    self.problem("Resources", "dependency cycle: " + " -> ".join(cycle))
                elif nxt not in state:
                    visit(nxt, path + [nxt])
            state[node] = "done"

        for node in sorted(self.edges):
            if node not in state:
                visit(node, [node])

    def run(self):
        if self.template.get("AWSTemplateFormatVersion") != "2010-09-09":
            self.problem("template", "AWSTemplateFormatVersion is not 2010-09-09")
        if not isinstance(self.resources, dict) or not self.resources:
            self.problem("template", "no Resources")
            return self.problems
        for name, resource in sorted(self.resources.items()):
            where = "Resources.%s" % name
            if not re.fullmatch(r"[A-Za-z0-9]{1,255}", name):
                self.problem(where, "a logical id is alphanumeric")
            for key in sorted(set(resource) - RESOURCE_KEYS):
                self.problem(where, "unknown resource attribute %s" % key)
            for key in ("DeletionPolicy", "UpdateReplacePolicy"):
                if key in resource and resource[key] not in ("Delete", "Retain", "Snapshot"):
                    self.problem(where, "%s is Delete, Retain or Snapshot, not %r" % (key, resource[key]))
            resource_type = resource.get("Type")
            type_spec = self.spec["ResourceTypes"].get(resource_type)
            if type_spec is None:
                self.problem(where, "unknown resource type %s" % resource_type)
            else:
                self.check_object(where + ".Properties", resource.get("Properties", {}), type_spec, resource_type,
                                  resource_type)
            self.check_references(where + ".Properties", resource.get("Properties", {}), name)
            depends = resource.get("DependsOn", [])
            for target in [depends] if isinstance(depends, str) else depends:
                if target not in self.resources:
                    self.problem(where, "DependsOn names %s, which is no resource" % target)
                else:
                    self.edges[name].add(target)
        for name, output in sorted(self.template.get("Outputs", {}).items()):
            self.check_references("Outputs.%s" % name, output, None)
        self.check_cycles()
        return self.problems


def validate(template, spec=None):
    """The problems of `template` (a parsed document), [] when it is valid."""
    return Validator(spec or load_spec(), template).run()


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        problems = validate(json.load(f))
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)
