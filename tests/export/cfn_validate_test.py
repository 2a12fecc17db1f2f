#!/usr/bin/python3
"""The template validator itself: a valid template passes, and each kind of
mistake it exists to catch is reported (an unknown property, a missing
required one, a wrong type, a dangling Ref or GetAtt, a cycle)."""
import copy
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cfn_validate  # noqa: E402

SPEC = cfn_validate.load_spec()

VALID = {
    "AWSTemplateFormatVersion": "2010-09-09",
    "Parameters": {"VpcId": {"Type": "AWS::EC2::VPC::Id"}},
    "Resources": {
        "Web": {"Type": "AWS::EC2::SecurityGroup", "Properties": {
            "GroupDescription": "web", "VpcId": {"Ref": "VpcId"},
            "SecurityGroupIngress": [{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIp": "0.0.0.0/0"}],
            "Tags": [{"Key": "Name", "Value": "web"}]}},
        "App": {"Type": "AWS::EC2::SecurityGroup", "Properties": {"GroupDescription": "app", "VpcId": {"Ref": "VpcId"}}},
        "AppFromWeb": {"Type": "AWS::EC2::SecurityGroupIngress", "Properties": {
            "GroupId": {"Fn::GetAtt": ["App", "GroupId"]}, "IpProtocol": "tcp", "FromPort": 1, "ToPort": 65535,
            "SourceSecurityGroupId": {"Fn::GetAtt": ["Web", "GroupId"]}}},
        "Logs": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": {"Fn::Sub": "/ecs/${AWS::StackName}-${App}"}}},
    },
    "Outputs": {"Group": {"Value": {"Fn::GetAtt": ["Web", "GroupId"]}}},
}


def broken(change):
    t = copy.deepcopy(VALID)
    change(t)
    return cfn_validate.validate(t, SPEC)


class ValidatorTest(unittest.TestCase):
    def assertReported(self, problems, text):
        self.assertTrue(any(text in p for p in problems), msg="%r not among the problems: %s" % (text, problems))

    def test_a_valid_template_passes(self):
        self.assertEqual(cfn_validate.validate(VALID, SPEC), [])

    def test_an_unknown_resource_type(self):
        self.assertReported(broken(lambda t: t["Resources"]["Logs"].update(Type="AWS::Logs::Nope")),
                            "unknown resource type AWS::Logs::Nope")

    def test_an_unknown_property_at_the_top_and_in_a_property_type(self):
        self.assertReported(broken(lambda t: t["Resources"]["Web"]["Properties"].update(Colour="blue")),
                            "unknown property Colour")
        self.assertReported(broken(lambda t: t["Resources"]["Web"]["Properties"]["SecurityGroupIngress"][0].update(
            Port=80)), "unknown property Port (of Ingress)")

    def test_a_missing_required_property(self):
        self.assertReported(broken(lambda t: t["Resources"]["Web"]["Properties"].pop("GroupDescription")),
                            "required property GroupDescription")
        self.assertReported(broken(lambda t: t["Resources"]["Web"]["Properties"]["SecurityGroupIngress"][0].pop(
            "IpProtocol")), "required property IpProtocol (of Ingress)")

    def test_an_unknown_resource_attribute_or_policy(self):
        self.assertReported(broken(lambda t: t["Resources"]["Logs"].update(Propertys={})),
                            "unknown resource attribute Propertys")
        self.assertReported(broken(lambda t: t["Resources"]["Logs"].update(DeletionPolicy="Keep")),
                            "DeletionPolicy is Delete, Retain or Snapshot")

    def test_a_wrong_type(self):
        self.assertReported(broken(lambda t: t["Resources"]["AppFromWeb"]["Properties"].update(FromPort="1")),
                            "'1' is not of type Integer")
        self.assertReported(broken(lambda t: t["Resources"]["Web"]["Properties"].update(Tags={"Name": "web"})),
                            "is not a list")

    def test_a_dangling_ref_getatt_sub_and_dependson(self):
        self.assertReported(broken(lambda t: t["Resources"]["Web"]["Properties"].update(VpcId={"Ref": "Vpc"})),
                            "Ref names Vpc, which is no resource")
        self.assertReported(broken(lambda t: t["Outputs"]["Group"].update(Value={"Fn::GetAtt": ["Gone", "GroupId"]})),
                            "Fn::GetAtt names Gone")
        self.assertReported(broken(lambda t: t["Resources"]["AppFromWeb"]["Properties"].update(
            GroupId={"Fn::GetAtt": ["App", "Colour"]})), "has no attribute Colour")
        self.assertReported(broken(lambda t: t["Resources"]["Logs"]["Properties"].update(
            LogGroupName={"Fn::Sub": "/ecs/${Nothing}"})), "Ref names Nothing")
        self.assertReported(broken(lambda t: t["Resources"]["Logs"].update(DependsOn=["Nothing"])),
                            "DependsOn names Nothing")

    def test_a_cycle(self):
        def cycle(t):
            t["Resources"]["Web"]["Properties"]["Tags"][0]["Value"] = {"Fn::GetAtt": ["AppFromWeb", "Id"]}
        self.assertReported(broken(cycle), "dependency cycle: AppFromWeb -> Web -> AppFromWeb")
        self.assertReported(broken(lambda t: t["Resources"]["App"].update(DependsOn="App")),
                            "dependency cycle")


if __name__ == "__main__":
    unittest.main()
