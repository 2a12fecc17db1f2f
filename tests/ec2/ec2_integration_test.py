#!/usr/bin/python3
"""EC2 through `berth serve` with the unmodified aws CLI (/usr/bin/aws) and boto3.

Usage: BERTH_BIN=<path to berth> ec2_integration_test.py [unittest args]
"""
import base64
import json
import os
import subprocess
import sys
import tempfile
import unittest

import botocore.exceptions

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from berth_harness import Daemon  # noqa: E402

ECS_AMI = "ami-0c9a0d5a8b4e7f312"
AL2_AMI = "ami-05c13eab67c5d8861"


class Ec2IntegrationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon()
        cls.daemon.start()
        cls.ec2 = cls.daemon.client("ec2")

    @classmethod
    def tearDownClass(cls):
        cls.daemon.cleanup()

    def cli_error(self, *args):
        rc, out, err = self.daemon.aws_result("ec2", *args)
        self.assertNotEqual(rc, 0, out)
        return err.strip()

    def test_default_network(self):
        vpcs = self.daemon.aws("ec2", "describe-vpcs")["Vpcs"]
        self.assertEqual(len(vpcs), 1)
        self.assertEqual(vpcs[0]["CidrBlock"], "172.31.0.0/16")
        self.assertTrue(vpcs[0]["IsDefault"])
        subnets = self.daemon.aws("ec2", "describe-subnets", "--filters", "Name=default-for-az,Values=true",
                                  "Name=vpc-id,Values=" + vpcs[0]["VpcId"])["Subnets"]
        self.assertEqual(sorted(s["AvailabilityZone"] for s in subnets),
                         ["us-east-1%s" % z for z in "abcdef"])
        self.assertTrue(all(s["MapPublicIpOnLaunch"] and s["CidrBlock"].endswith("/20") for s in subnets))
        zones = self.daemon.aws("ec2", "describe-availability-zones")["AvailabilityZones"]
        self.assertEqual(zones[0]["ZoneId"], "use1-az1")
        self.assertIn("us-east-1", [r["RegionName"] for r in self.daemon.aws("ec2", "describe-regions")["Regions"]])
        attrs = self.daemon.aws("ec2", "describe-account-attributes", "--attribute-names", "default-vpc")
        self.assertEqual(attrs["AccountAttributes"][0]["AttributeValues"][0]["AttributeValue"], vpcs[0]["VpcId"])
        groups = self.daemon.aws("ec2", "describe-security-groups", "--group-names", "default")["SecurityGroups"]
        self.assertEqual(groups[0]["Description"], "default VPC security group")
        err = self.cli_error("delete-security-group", "--group-id", groups[0]["GroupId"])
        self.assertIn("(CannotDelete)", err)

    def test_security_group_lifecycle(self):
        sg = self.daemon.aws("ec2", "create-security-group", "--group-name", "it-web", "--description", "web tier")["GroupId"]
        lb = self.daemon.aws("ec2", "create-security-group", "--group-name", "it-lb", "--description", "lb tier",
                             "--tag-specifications",
                             "ResourceType=security-group,Tags=[{Key=Name,Value=lb}]")["GroupId"]
        err = self.cli_error("create-security-group", "--group-name", "it-web", "--description", "again")
        self.assertIn("An error occurred (InvalidGroup.Duplicate) when calling the CreateSecurityGroup operation: "
                      "The security group 'it-web' already exists for VPC 'vpc-", err)

        out = self.daemon.aws("ec2", "authorize-security-group-ingress", "--group-id", sg, "--protocol", "tcp",
                              "--port", "22", "--cidr", "203.0.113.0/24")
        self.assertTrue(out["Return"])
        self.assertEqual(out["SecurityGroupRules"][0]["CidrIpv4"], "203.0.113.0/24")
        self.daemon.aws("ec2", "authorize-security-group-ingress", "--group-id", sg, "--protocol", "tcp", "--port", "80",
                        "--source-group", lb)
        self.daemon.aws("ec2", "authorize-security-group-ingress", "--group-name", "it-web", "--protocol", "all",
                        "--source-group", "it-lb")
        perms = [{"IpProtocol": "udp", "FromPort": 53, "ToPort": 53,
                  "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "dns"}],
                  "Ipv6Ranges": [{"CidrIpv6": "2001:db8::/32"}],
                  "UserIdGroupPairs": [{"GroupId": lb}]},
                 {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "192.0.2.0/24"}]}]
        out = self.daemon.aws("ec2", "authorize-security-group-ingress", "--group-id", sg, "--ip-permissions",
                              json.dumps(perms))
        self.assertEqual(len(out["SecurityGroupRules"]), 4)
        err = self.cli_error("authorize-security-group-ingress", "--group-id", sg, "--protocol", "tcp",
                             "--port", "22", "--cidr", "203.0.113.0/24")
        self.assertIn('(InvalidPermission.Duplicate) when calling the AuthorizeSecurityGroupIngress operation: '
                      'the specified rule "peer: 203.0.113.0/24, TCP, from port: 22, to port: 22, ALLOW" '
                      'already exists', err)
        err = self.cli_error("authorize-security-group-ingress", "--group-id", sg, "--protocol", "-1",
                             "--source-group", lb)
        self.assertIn('"peer: %s, ALL, ALLOW"' % lb, err)
        self.daemon.aws("ec2", "authorize-security-group-egress", "--group-id", lb, "--ip-permissions",
                        json.dumps([{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
                                     "UserIdGroupPairs": [{"GroupId": sg}]}]))

        group = self.daemon.aws("ec2", "describe-security-groups", "--group-ids", sg)["SecurityGroups"][0]
        protocols = sorted(p["IpProtocol"] for p in group["IpPermissions"])
        self.assertEqual(protocols, ["-1", "tcp", "tcp", "udp"])  # both -1 rules are one IpPermission
        udp = [p for p in group["IpPermissions"] if p["IpProtocol"] == "udp"][0]
        self.assertEqual(udp["IpRanges"], [{"CidrIp": "10.0.0.0/8", "Description": "dns"}])
        self.assertEqual(udp["Ipv6Ranges"], [{"CidrIpv6": "2001:db8::/32"}])
        self.assertEqual(udp["UserIdGroupPairs"][0]["GroupId"], lb)
        found = self.daemon.aws("ec2", "describe-security-groups", "--filters", "Name=tag:Name,Values=lb")["SecurityGroups"]
        self.assertEqual([g["GroupId"] for g in found], [lb])
        found = self.daemon.aws("ec2", "describe-security-groups", "--filters", "Name=ip-permission.from-port,Values=53")
        self.assertEqual([g["GroupId"] for g in found["SecurityGroups"]], [sg])

        rules = self.daemon.aws("ec2", "describe-security-group-rules", "--filters", "Name=group-id,Values=" + sg)
        self.assertEqual(len(rules["SecurityGroupRules"]), 8)  # 7 ingress + the default egress rule
        rule_id = [r for r in rules["SecurityGroupRules"] if r.get("CidrIpv4") == "192.0.2.0/24"][0]
        self.daemon.aws("ec2", "revoke-security-group-ingress", "--group-id", sg, "--security-group-rule-ids",
                        rule_id["SecurityGroupRuleId"])
        out = self.daemon.aws("ec2", "revoke-security-group-ingress", "--group-id", sg, "--protocol", "tcp", "--port", "22",
                              "--cidr", "203.0.113.0/24")
        self.assertTrue(out["Return"])
        self.assertNotIn("UnknownIpPermissions", out)
        out = self.daemon.aws("ec2", "revoke-security-group-ingress", "--group-id", sg, "--protocol", "tcp", "--port", "22",
                              "--cidr", "203.0.113.0/24")
        self.assertEqual(out["UnknownIpPermissions"][0]["IpRanges"], [{"CidrIp": "203.0.113.0/24"}])

        err = self.cli_error("delete-security-group", "--group-id", lb)
        self.assertIn("(DependencyViolation) when calling the DeleteSecurityGroup operation: resource %s has a "
                      "dependent object" % lb, err)
        # sg is referenced by lb's egress rule: still a dependency until that is revoked.
        err = self.cli_error("delete-security-group", "--group-id", sg)
        self.assertIn("(DependencyViolation)", err)
        self.daemon.aws("ec2", "revoke-security-group-egress", "--group-id", lb, "--ip-permissions",
                        json.dumps([{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
                                     "UserIdGroupPairs": [{"GroupId": sg}]}]))
        self.daemon.aws("ec2", "delete-security-group", "--group-id", sg)
        self.daemon.aws("ec2", "delete-security-group", "--group-name", "it-lb")
        err = self.cli_error("describe-security-groups", "--group-ids", sg)
        self.assertIn("(InvalidGroup.NotFound) when calling the DescribeSecurityGroups operation: "
                      "The security group '%s' does not exist" % sg, err)

    def test_key_pairs(self):
        work = tempfile.mkdtemp(dir=self.daemon.data_dir)
        created = self.daemon.aws("ec2", "create-key-pair", "--key-name", "it-rsa")
        pem = os.path.join(work, "it-rsa.pem")
        with open(pem, "w") as f:
            f.write(created["KeyMaterial"])
        os.chmod(pem, 0o600)
        self.assertTrue(created["KeyMaterial"].startswith("-----BEGIN RSA PRIVATE KEY-----"))
        der_sha1 = subprocess.run("openssl pkcs8 -in %s -inform PEM -outform DER -topk8 -nocrypt | openssl sha1 -c"
                                  % pem, shell=True, capture_output=True, text=True, check=True).stdout
        self.assertEqual(created["KeyFingerprint"], der_sha1.split("= ")[1].strip())
        self.assertTrue(created["KeyPairId"].startswith("key-"))

        ed = self.daemon.aws("ec2", "create-key-pair", "--key-name", "it-ed", "--key-type", "ed25519",
                             "--query", "{M:KeyMaterial,F:KeyFingerprint}")
        ed_file = os.path.join(work, "it-ed")
        with open(ed_file, "w") as f:
            f.write(ed["M"])
        os.chmod(ed_file, 0o600)
        line = subprocess.run(["ssh-keygen", "-l", "-f", ed_file], capture_output=True, text=True, check=True).stdout
        self.assertEqual(ed["F"], line.split("SHA256:")[1].split()[0] + "=")

        subprocess.run(["ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f", os.path.join(work, "imp")],
                       check=True)
        imported = self.daemon.aws("ec2", "import-key-pair", "--key-name", "it-imported", "--public-key-material",
                                   "fileb://" + os.path.join(work, "imp.pub"))
        md5 = subprocess.run("ssh-keygen -e -m PKCS8 -f %s | openssl pkey -pubin -outform DER | openssl md5 -c"
                             % os.path.join(work, "imp.pub"), shell=True, capture_output=True, text=True,
                             check=True).stdout
        self.assertEqual(imported["KeyFingerprint"], md5.split("= ")[1].strip())

        keys = self.daemon.aws("ec2", "describe-key-pairs", "--key-names", "it-rsa", "it-ed", "it-imported")["KeyPairs"]
        self.assertEqual([k["KeyType"] for k in keys], ["rsa", "ed25519", "rsa"])
        self.assertNotIn("KeyMaterial", json.dumps(keys))
        err = self.cli_error("create-key-pair", "--key-name", "it-rsa")
        self.assertIn("(InvalidKeyPair.Duplicate) when calling the CreateKeyPair operation: "
                      "The keypair 'it-rsa' already exists.", err)
        self.daemon.aws("ec2", "delete-key-pair", "--key-name", "it-imported")
        self.daemon.aws("ec2", "delete-key-pair", "--key-name", "it-imported")  # missing: still success
        err = self.cli_error("describe-key-pairs", "--key-names", "it-imported")
        self.assertIn("(InvalidKeyPair.NotFound) when calling the DescribeKeyPairs operation: "
                      "The key pair 'it-imported' does not exist", err)

    def test_catalogue(self):
        types = self.daemon.aws("ec2", "describe-instance-types", "--instance-types", "t2.nano", "t3.medium",
                                "m5.xlarge")["InstanceTypes"]
        sizes = {t["InstanceType"]: (t["VCpuInfo"]["DefaultVCpus"], t["MemoryInfo"]["SizeInMiB"]) for t in types}
        self.assertEqual(sizes, {"t2.nano": (1, 512), "t3.medium": (2, 4096), "m5.xlarge": (4, 16384)})
        all_types = [t["InstanceType"] for page in self.ec2.get_paginator("describe_instance_types").paginate(
            PaginationConfig={"PageSize": 5}) for t in page["InstanceTypes"]]
        self.assertGreaterEqual(len(all_types), 11)
        self.assertEqual(len(all_types), len(set(all_types)))
        images = self.daemon.aws("ec2", "describe-images", "--owners", "amazon", "--filters",
                                 "Name=name,Values=amzn2-ami-ecs-hvm-*-x86_64-ebs")["Images"]
        self.assertEqual([i["ImageId"] for i in images], [ECS_AMI])
        err = self.cli_error("describe-images", "--image-ids", "ami-0123456789abcdef0")
        self.assertIn("(InvalidAMIID.NotFound)", err)

    def test_instances(self):
        self.daemon.aws("ec2", "create-key-pair", "--key-name", "it-node", "--key-type", "ed25519")
        sg = self.daemon.aws("ec2", "create-security-group", "--group-name", "it-node", "--description", "nodes")["GroupId"]
        run = self.daemon.aws("ec2", "run-instances", "--image-id", ECS_AMI, "--count", "2", "--instance-type", "t2.nano",
                              "--key-name", "it-node", "--security-group-ids", sg, "--user-data",
                              "#!/bin/bash\necho ECS_CLUSTER=demo >> /etc/ecs/ecs.config",
                              "--tag-specifications", "ResourceType=instance,Tags=[{Key=Name,Value=it-node}]")
        ids = [i["InstanceId"] for i in run["Instances"]]
        self.assertEqual(len(ids), 2)
        first = run["Instances"][0]
        self.assertEqual(first["State"]["Name"], "pending")
        self.assertTrue(first["PrivateIpAddress"].startswith("172.31."))
        self.assertTrue(first["PublicIpAddress"].startswith("127.100."))
        self.assertEqual(first["PrivateDnsName"], "ip-%s.ec2.internal" % first["PrivateIpAddress"].replace(".", "-"))
        self.assertEqual(first["SecurityGroups"], [{"GroupId": sg, "GroupName": "it-node"}])
        self.assertNotEqual(run["Instances"][0]["PublicIpAddress"], run["Instances"][1]["PublicIpAddress"])

        # The CLI waiter: polls DescribeInstances until both are running.
        self.daemon.aws("ec2", "wait", "instance-running", "--instance-ids", *ids)
        reservations = self.daemon.aws("ec2", "describe-instances", "--filters", "Name=tag:Name,Values=it-node",
                                       "Name=instance-state-name,Values=running")["Reservations"]
        self.assertEqual(sorted(i["InstanceId"] for r in reservations for i in r["Instances"]), sorted(ids))
        attr = self.daemon.aws("ec2", "describe-instance-attribute", "--instance-id", ids[0], "--attribute", "userData")
        self.assertEqual(base64.b64decode(attr["UserData"]["Value"]).decode(),
                         "#!/bin/bash\necho ECS_CLUSTER=demo >> /etc/ecs/ecs.config")

        err = self.cli_error("delete-security-group", "--group-id", sg)
        self.assertIn("(DependencyViolation)", err)
        err = self.cli_error("run-instances", "--image-id", ECS_AMI, "--instance-type", "t2.nano", "--key-name", "nope")
        self.assertIn("(InvalidKeyPair.NotFound) when calling the RunInstances operation: "
                      "The key pair 'nope' does not exist", err)
        err = self.cli_error("run-instances", "--image-id", "ami-0123456789abcdef0")
        self.assertIn("(InvalidAMIID.NotFound)", err)
        err = self.cli_error("run-instances", "--image-id", ECS_AMI, "--instance-type", "x9.huge")
        self.assertIn("(InvalidParameterValue)", err)
        err = self.cli_error("describe-instances", "--instance-ids", "i-00000000000000000")
        self.assertIn("(InvalidInstanceID.NotFound) when calling the DescribeInstances operation: "
                      "The instance ID 'i-00000000000000000' does not exist", err)

        stop = self.daemon.aws("ec2", "stop-instances", "--instance-ids", ids[0])["StoppingInstances"][0]
        self.assertEqual((stop["PreviousState"]["Name"], stop["CurrentState"]["Name"]), ("running", "stopping"))
        waiter = self.ec2.get_waiter("instance_stopped")
        waiter.wait(InstanceIds=[ids[0]], WaiterConfig={"Delay": 1, "MaxAttempts": 20})
        start = self.daemon.aws("ec2", "start-instances", "--instance-ids", ids[0])["StartingInstances"][0]
        self.assertEqual(start["CurrentState"]["Name"], "pending")

        term = self.daemon.aws("ec2", "terminate-instances", "--instance-ids", *ids)["TerminatingInstances"]
        self.assertEqual({t["CurrentState"]["Name"] for t in term}, {"shutting-down"})
        self.ec2.get_waiter("instance_terminated").wait(InstanceIds=ids, WaiterConfig={"Delay": 1, "MaxAttempts": 20})
        described = self.ec2.describe_instances(InstanceIds=ids)["Reservations"][0]["Instances"]
        self.assertEqual({i["State"]["Name"] for i in described}, {"terminated"})
        self.daemon.aws("ec2", "delete-security-group", "--group-id", sg)

    def test_boto3_pagination(self):
        run = self.ec2.run_instances(ImageId=AL2_AMI, InstanceType="t3.micro", MinCount=7, MaxCount=7)
        ids = {i["InstanceId"] for i in run["Instances"]}
        seen = []
        pages = 0
        for page in self.ec2.get_paginator("describe_instances").paginate(
                Filters=[{"Name": "image-id", "Values": [AL2_AMI]}], PaginationConfig={"PageSize": 5}):
            pages += 1
            seen += [i["InstanceId"] for r in page["Reservations"] for i in r["Instances"]]
        self.assertEqual(pages, 2)
        self.assertEqual(set(seen), ids)
        self.assertEqual(len(seen), len(ids))
        for i in range(6):
            self.ec2.create_security_group(GroupName="it-page-%d" % i, Description="p")
        names = [g["GroupName"] for page in self.ec2.get_paginator("describe_security_groups").paginate(
            PaginationConfig={"PageSize": 5}) for g in page["SecurityGroups"]]
        self.assertEqual(len(names), len(set(names)))
        self.assertTrue({"it-page-%d" % i for i in range(6)} <= set(names))
        with self.assertRaises(botocore.exceptions.ClientError) as caught:
            self.ec2.delete_security_group(GroupName="it-page-nope")
        self.assertEqual(caught.exception.response["Error"]["Code"], "InvalidGroup.NotFound")
        self.assertEqual(caught.exception.response["ResponseMetadata"]["HTTPStatusCode"], 400)
        self.ec2.terminate_instances(InstanceIds=sorted(ids))


class Ec2RestartTest(unittest.TestCase):
    def test_state_survives_sigkill(self):
        daemon = Daemon()
        try:
            daemon.start()
            ec2 = daemon.client("ec2")
            vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
            sg = ec2.create_security_group(GroupName="durable", Description="d")["GroupId"]
            ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
                {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
            key = ec2.create_key_pair(KeyName="durable", KeyType="ed25519")["KeyFingerprint"]
            instance = ec2.run_instances(ImageId=ECS_AMI, InstanceType="t2.micro", MinCount=1, MaxCount=1,
                                         SecurityGroupIds=[sg])["Instances"][0]
            daemon.kill()
            daemon.start()
            ec2 = daemon.client("ec2")
            self.assertEqual(ec2.describe_vpcs()["Vpcs"][0]["VpcId"], vpc)
            self.assertEqual(len(ec2.describe_subnets()["Subnets"]), 6)
            group = ec2.describe_security_groups(GroupIds=[sg])["SecurityGroups"][0]
            self.assertEqual(group["IpPermissions"][0]["FromPort"], 443)
            self.assertEqual(ec2.describe_key_pairs(KeyNames=["durable"])["KeyPairs"][0]["KeyFingerprint"], key)
            again = ec2.describe_instances(InstanceIds=[instance["InstanceId"]])["Reservations"][0]["Instances"][0]
            self.assertEqual(again["PrivateIpAddress"], instance["PrivateIpAddress"])
            self.assertEqual(again["PublicIpAddress"], instance["PublicIpAddress"])
            # Still one default group after the second start.
            self.assertEqual(len(ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"]), 1)
        finally:
            daemon.cleanup()


if __name__ == "__main__":
    unittest.main(verbosity=2)
