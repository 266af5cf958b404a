#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""forensics-controller against moto's server with signature checking on.

An instance with two volumes goes through `respond`: boto3 then sees
termination protection on, shutdown behaviour stop and DeleteOnTermination
false on both volumes, one snapshot per volume tagged with the case, their
copies under the forensics KMS key shared with the forensics account; the
printed case record holds the instance as it was and a timeline of every
call; then containment: every ENI through an allow-all group into one with no
rules, the Elastic IP off, a deny-all profile, older role sessions denied,
the Contain tag (also by `contain` alone). A refused step is recorded with
its code and the later ones, containment included, still run. The record
kept in S3 is written at each milestone, a rerun resumes from it, and
`release` puts back from it what the response changed. Events on stdin (tag
change, Security Hub, manual) start the same runs. Bad input gives one clear error line and
its own exit code: an unknown instance, a wrong secret, a role that cannot
be assumed, the wrong account, throttling that does not stop. Throttling
that stops (EC2's RequestLimitExceeded, STS's Throttling) is retried,
injected by faultproxy.py, which reads the Query API's Action from the body.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import AGENT, BUILD, Suite, check, log_records, one_error  # noqa: E402
from faultproxy import FaultProxy, Rule, error  # noqa: E402
from s3env import ACCOUNT_ID, ALLOW_ALL, MotoServer  # noqa: E402
import ssmdoc  # noqa: E402

CONTROLLER = os.path.join(BUILD, "forensics-controller")
EXIT_USAGE, EXIT_DENIED, EXIT_NO_INSTANCE, EXIT_THROTTLED = 2, 20, 21, 22
EXIT_ASSUME_ROLE, EXIT_WRONG_ACCOUNT, EXIT_STEP_FAILED, EXIT_RECORD = 24, 25, 26, 27
EXIT_EVENT = 28
FORENSICS_ACCOUNT = "210987654321"
# moto 5.2.1 honours a trust policy naming the caller's own ARN (not the account's
# :root, which it refuses; "*" gets HTTP 500), refuses a wrong ExternalId but
# accepts a missing one, and lets any ARN of a role that does not exist be assumed.
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:user/forensics-test"},
    "Action": "sts:AssumeRole",
    "Condition": {"StringEquals": {"sts:ExternalId": "ext-42"}}}]})

suite = Suite("controller", timed=True)


def launch(moto, shutdown="terminate"):
    """An instance with a root and a data volume, both deleted on termination."""
    r = moto.client("ec2").run_instances(
        ImageId="ami-12c6146b", MinCount=1, MaxCount=1, InstanceType="t3.micro",
        InstanceInitiatedShutdownBehavior=shutdown,
        BlockDeviceMappings=[
            {"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 8, "DeleteOnTermination": True}},
            {"DeviceName": "/dev/sdf", "Ebs": {"VolumeSize": 4, "DeleteOnTermination": True}}])
    return r["Instances"][0]["InstanceId"]


def respond(moto, instance_id, *args, endpoint=None, **env):
    e = moto.env(AWS_ENDPOINT_URL=endpoint or moto.endpoint, **env)
    return subprocess.run([CONTROLLER, "respond", instance_id, "--case", "IR-7", *args],
                          env=e, capture_output=True, timeout=120)


def record(p):
    return json.loads(p.stdout)


def steps(rec):
    return [(s["step"], s["result"]) for s in rec["timeline"]]


def check_preserved(ec2, iid):
    """Termination protection on, shutdown behaviour stop, both volumes kept, as boto3 sees."""
    check(ec2.describe_instance_attribute(InstanceId=iid, Attribute="disableApiTermination")
          ["DisableApiTermination"]["Value"] is True, "termination protection is not on")
    check(ec2.describe_instance_attribute(
        InstanceId=iid, Attribute="instanceInitiatedShutdownBehavior")
        ["InstanceInitiatedShutdownBehavior"]["Value"] == "stop", "shutdown behaviour not stop")
    after = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    dot = {m["DeviceName"]: m["Ebs"]["DeleteOnTermination"] for m in after["BlockDeviceMappings"]}
    check(dot == {"/dev/sda1": False, "/dev/sdf": False}, f"DeleteOnTermination: {dot}")


def case_preserves(moto):
    ec2 = moto.client("ec2")
    iid = launch(moto)
    before = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    p = respond(moto, iid, "--account", ACCOUNT_ID)
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr.decode()[-1500:]}")
    check_preserved(ec2, iid)

    rec = record(p)
    check(rec["case_id"] == "IR-7" and rec["instance_id"] == iid and
          rec["region"] == moto.region and rec["finished"] is True, f"header: {rec}")
    check(rec["identity"]["account"] == ACCOUNT_ID, f"identity: {rec['identity']}")
    check(steps(rec)[:8] == [("identity", "ok"), ("describe", "ok"),
                             ("termination-protection", "ok"), ("shutdown-behavior", "ok"),
                             ("keep-volumes", "ok"), ("console-output", "ok"),
                             ("snapshots", "ok"), ("snapshots-completed", "ok")] and
          all(r == "ok" for _, r in steps(rec)), f"timeline: {steps(rec)}")
    inst = rec["instance"]
    # The instance as it was, so `release` can put it back.
    check(inst["disable_api_termination"] is False and inst["shutdown_behavior"] == "terminate",
          f"attributes before: {inst.get('disable_api_termination')} "
          f"{inst.get('shutdown_behavior')}")
    vols = {d["device_name"]: (d["volume_id"], d["delete_on_termination"])
            for d in inst["block_devices"]}
    want = {m["DeviceName"]: (m["Ebs"]["VolumeId"], True) for m in before["BlockDeviceMappings"]}
    check(vols == want, f"volumes {vols} != {want}")
    enis = {e["id"]: [g["id"] for g in e["groups"]] for e in inst["network_interfaces"]}
    want = {e["NetworkInterfaceId"]: [g["GroupId"] for g in e["Groups"]]
            for e in before["NetworkInterfaces"]}
    check(enis == want, f"ENIs {enis} != {want}")
    check(inst["state"] == "running" and inst["instance_type"] == "t3.micro", f"{inst}")
    check(rec["preservation"] == {"termination_protection": True, "shutdown_behavior": "stop",
                                  "delete_on_termination": False}, f"{rec['preservation']}")
    out = ec2.get_console_output(InstanceId=iid)["Output"]
    import base64
    check(base64.b64decode(rec["console_output"]["output_base64"]).decode() == out,
          "console output differs from boto3's")


def case_snapshots(moto):
    """One snapshot per volume, tagged; encrypted copies with the forensics key, shared."""
    ec2 = moto.client("ec2")
    iid = launch(moto)
    key = moto.client("kms").create_key(Description="forensics")["KeyMetadata"]["Arn"]
    vols = {m["Ebs"]["VolumeId"] for m in ec2.describe_instances(InstanceIds=[iid])
            ["Reservations"][0]["Instances"][0]["BlockDeviceMappings"]}
    p = respond(moto, iid, "--kms-key", key, "--share-with", FORENSICS_ACCOUNT)
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr.decode()[-1500:]}")
    rec = record(p)
    snaps = rec["snapshots"]
    check({s["volume_id"] for s in snaps} == vols, f"snapshots of {snaps} != volumes {vols}")
    check(all(s["state"] == "completed" and s["copy_state"] == "completed" and
              s["copy_kms_key"] == key and s["shared_with"] == FORENSICS_ACCOUNT
              for s in snaps), f"record: {snaps}")
    tagged = ec2.describe_snapshots(Filters=[{"Name": "tag:ForensicsCaseId",
                                              "Values": ["IR-7"]}])["Snapshots"]
    by_id = {s["SnapshotId"]: s for s in tagged}
    for s in snaps:
        orig, copy = by_id.get(s["snapshot_id"]), by_id.get(s["copy_id"])
        check(orig and copy, f"{s} not both tagged with the case: {sorted(by_id)}")
        check({"Key": "ForensicsSourceInstance", "Value": iid} in orig["Tags"] and
              {"Key": "ForensicsSourceInstance", "Value": iid} in copy["Tags"], "instance tag")
        check(copy.get("KmsKeyId") == key, f"copy key {copy.get('KmsKeyId')}")
        perms = ec2.describe_snapshot_attribute(SnapshotId=s["copy_id"],
                                                Attribute="createVolumePermission")
        check(perms["CreateVolumePermissions"] == [{"UserId": FORENSICS_ACCOUNT}],
              f"copy shared as {perms['CreateVolumePermissions']}")
        perms = ec2.describe_snapshot_attribute(SnapshotId=s["snapshot_id"],
                                                Attribute="createVolumePermission")
        check(perms["CreateVolumePermissions"] == [], "the unencrypted original was shared")
    names = [st for st, _ in steps(rec)]
    i = names.index("snapshots")
    check(names[i:i + 7] == ["snapshots", "snapshots-completed", "copy", "copy",
                             "copies-completed", "share", "share"], f"{steps(rec)}")


def case_step_refused(moto):
    """A refused step is recorded with AWS's code; the steps after it still run, and
    containment happens even though a snapshot copy failed."""
    ec2 = moto.client("ec2")
    iid = launch(moto)
    key = moto.client("kms").create_key(Description="forensics")["KeyMetadata"]["Arn"]
    with FaultProxy(moto.endpoint) as proxy:
        proxy.add_rule(Rule(error(403, "UnauthorizedOperation", "You are not authorized to "
                                  "perform this operation."),
                            action="ModifyInstanceAttribute", nth=1, count=1))
        proxy.add_rule(Rule(error(403, "UnauthorizedOperation", "no kms:CreateGrant"),
                            action="CopySnapshot", nth=1, count=1))
        proxy.add_rule(Rule(error(403, "UnauthorizedOperation", "not on this ENI"),
                            action="ModifyNetworkInterfaceAttribute", nth=1, count=1))
        p = respond(moto, iid, "--kms-key", key, "--share-with", FORENSICS_ACCOUNT,
                    endpoint=proxy.endpoint)
    check(p.returncode == EXIT_STEP_FAILED, f"exit {p.returncode}: {p.stderr.decode()[-1500:]}")
    rec = record(p)
    failed = [(t["step"], t.get("code")) for t in rec["timeline"] if t["result"] == "failed"]
    check(failed == [("termination-protection", "UnauthorizedOperation"),
                     ("copy", "UnauthorizedOperation"),
                     ("eni-allow-all", "UnauthorizedOperation")], f"failed steps: {failed}")
    # Containment still ran to the end: isolated (without the allow-all pass), tagged.
    c = rec["containment"]
    check(c.get("enis_isolated") is True and c.get("tagged") is True, f"containment: {c}")
    enis = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0][
        "NetworkInterfaces"]
    check(all([g["GroupId"] for g in e["Groups"]] == [c["isolation_group"]] for e in enis),
          f"ENIs not isolated: {enis}")
    check("termination_protection" not in rec["preservation"] and
          rec["preservation"]["shutdown_behavior"] == "stop", f"{rec['preservation']}")
    check(ec2.describe_instance_attribute(InstanceId=iid, Attribute="disableApiTermination")
          ["DisableApiTermination"]["Value"] is False, "protection on despite the refusal")
    copied = [s for s in rec["snapshots"] if "copy_id" in s]
    check(len(copied) == 1 and copied[0].get("shared_with") == FORENSICS_ACCOUNT and
          len(rec["snapshots"]) == 2, f"snapshots: {rec['snapshots']}")
    check(rec["finished"] is False, "a run with a failed step says finished")


def contained_instance(moto):
    """An instance with an instance profile (and role) and an Elastic IP; the deny-all profile."""
    ec2, iam = moto.client("ec2"), moto.client("iam")
    iid = launch(moto)
    n = len(iam.list_instance_profiles()["InstanceProfiles"])
    iam.create_role(RoleName=f"app-role-{n}", AssumeRolePolicyDocument=TRUST)
    prof = iam.create_instance_profile(InstanceProfileName=f"app-prof-{n}")["InstanceProfile"]
    iam.add_role_to_instance_profile(InstanceProfileName=f"app-prof-{n}",
                                     RoleName=f"app-role-{n}")
    ec2.associate_iam_instance_profile(IamInstanceProfile={"Arn": prof["Arn"]}, InstanceId=iid)
    alloc = ec2.allocate_address(Domain="vpc")
    ec2.associate_address(InstanceId=iid, AllocationId=alloc["AllocationId"])
    deny = iam.create_instance_profile(InstanceProfileName=f"deny-all-{n}")["InstanceProfile"]
    return iid, f"app-role-{n}", alloc["AllocationId"], deny["Arn"]


def check_contained(moto, iid, role, allocation, deny_arn, rec):
    ec2, iam = moto.client("ec2"), moto.client("iam")
    c = rec["containment"]
    inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    for eni in inst["NetworkInterfaces"]:
        check([g["GroupId"] for g in eni["Groups"]] == [c["isolation_group"]],
              f"ENI {eni['NetworkInterfaceId']} in {eni['Groups']}")
    groups = {g["GroupId"]: g for g in ec2.describe_security_groups(
        GroupIds=[c["isolation_group"], c["allow_all_group"]])["SecurityGroups"]}
    iso, allow = groups[c["isolation_group"]], groups[c["allow_all_group"]]
    check(iso["IpPermissions"] == [] and iso["IpPermissionsEgress"] == [],
          f"isolation group has rules: {iso}")
    check([(p["IpProtocol"], [r["CidrIp"] for r in p["IpRanges"]]) for p in allow["IpPermissions"]]
          == [("-1", ["0.0.0.0/0"])], f"allow-all ingress: {allow['IpPermissions']}")
    moves = [st for st, _ in steps(rec) if st.startswith("eni-")]
    check(moves == ["eni-allow-all"] * len(inst["NetworkInterfaces"]) +
          ["eni-isolation"] * len(inst["NetworkInterfaces"]), f"ENI moves: {moves}")
    addr = ec2.describe_addresses(AllocationIds=[allocation])["Addresses"][0]
    check(not addr.get("AssociationId") and not addr.get("InstanceId"), f"EIP still on: {addr}")
    assoc = ec2.describe_iam_instance_profile_associations(
        Filters=[{"Name": "instance-id", "Values": [iid]}])["IamInstanceProfileAssociations"]
    check([a["IamInstanceProfile"]["Arn"] for a in assoc] == [deny_arn], f"profile: {assoc}")
    doc = iam.get_role_policy(RoleName=role, PolicyName="ForensicsRevokeOlderSessions")
    doc = doc["PolicyDocument"]
    doc = json.loads(doc) if isinstance(doc, str) else doc
    st = doc["Statement"][0]
    check(st["Effect"] == "Deny" and st["Action"] == "*" and
          "aws:TokenIssueTime" in st["Condition"]["DateLessThan"], f"revoke policy: {doc}")
    tags = {t["Key"]: t["Value"] for t in inst.get("Tags", [])}
    check(tags.get("SecurityIncidentStatus") == "Contain" and tags.get("ForensicsCaseId") == "IR-7",
          f"tags: {tags}")


def case_respond_contains(moto):
    """After preservation and snapshots: ENIs via allow-all to isolation, EIP off, profile
    replaced, older sessions of the role denied, tagged Contain."""
    iid, role, allocation, deny = contained_instance(moto)
    p = respond(moto, iid, "--deny-profile", deny)
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr.decode()[-1500:]}")
    rec = record(p)
    check_contained(moto, iid, role, allocation, deny, rec)
    check(rec["containment"]["elastic_ips_disassociated"] and
          rec["containment"]["profile_replaced_by"] == deny and
          rec["containment"]["sessions_revoked_on"] == role, f"{rec['containment']}")


def case_contain_only(moto):
    """`contain`: preservation and isolation without snapshots; groups of the VPC reused."""
    ec2 = moto.client("ec2")
    iid, role, allocation, deny = contained_instance(moto)
    groups_before = len(ec2.describe_security_groups()["SecurityGroups"])
    # By name: the profile of that name in the account acted in.
    p = subprocess.run([CONTROLLER, "contain", iid, "--case", "IR-7",
                        "--deny-profile", deny.rsplit("/", 1)[1]],
                       env=moto.env(AWS_ENDPOINT_URL=moto.endpoint), capture_output=True,
                       timeout=120)
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr.decode()[-1500:]}")
    rec = record(p)
    check_contained(moto, iid, role, allocation, deny, rec)
    # Preserved as respond does, so the contained instance cannot be terminated; no snapshots.
    check("snapshots" not in rec and rec["preservation"] == {
        "termination_protection": True, "shutdown_behavior": "stop",
        "delete_on_termination": False}, f"contain: {rec.get('preservation')}")
    check_preserved(ec2, iid)
    check(len(ec2.describe_security_groups()["SecurityGroups"]) == groups_before,
          "the VPC's forensics groups were created again")


def case_isolation_group(moto):
    """The isolation group is the case's own, emptied of every rule: in a dual-stack VPC
    no IPv6 egress stays either; a `forensics-isolation` group that allows traffic (as
    someone may have made it) is not used."""
    ec2 = moto.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    ipv6 = ec2.describe_vpcs(VpcIds=[vpc["VpcId"]])["Vpcs"][0][
        "Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"]
    subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.42.1.0/24",
                               Ipv6CidrBlock=ipv6.replace("/56", "/64"))["Subnet"]["SubnetId"]
    trap = ec2.create_security_group(GroupName="forensics-isolation", VpcId=vpc["VpcId"],
                                     Description="looks like ours")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=trap, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
         "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    iid = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1,
                            InstanceType="t3.micro", SubnetId=subnet)["Instances"][0]["InstanceId"]
    p = subprocess.run([CONTROLLER, "contain", iid, "--case", "IR-v6"],
                       env=moto.env(AWS_ENDPOINT_URL=moto.endpoint), capture_output=True,
                       timeout=120)
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr.decode()[-1500:]}")
    c = record(p)["containment"]
    check(c["isolation_group"] != trap, "the pre-existing forensics-isolation group was used")
    iso = ec2.describe_security_groups(GroupIds=[c["isolation_group"]])["SecurityGroups"][0]
    check(iso["GroupName"] == "forensics-isolation-IR-v6" and iso["IpPermissions"] == [] and
          iso["IpPermissionsEgress"] == [], f"isolation group: {iso}")
    check(c["isolation_rules_found"] == 2, f"default egress rules (IPv4, IPv6): {c}")
    inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    for eni in inst["NetworkInterfaces"]:
        check([g["GroupId"] for g in eni["Groups"]] == [c["isolation_group"]],
              f"ENI {eni['NetworkInterfaceId']} in {eni['Groups']}")
    # Someone adds a rule to the case's group: a rerun takes it away again.
    ec2.authorize_security_group_egress(GroupId=c["isolation_group"], IpPermissions=[
        {"IpProtocol": "-1", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}])
    p = subprocess.run([CONTROLLER, "contain", iid, "--case", "IR-v6"],
                       env=moto.env(AWS_ENDPOINT_URL=moto.endpoint), capture_output=True,
                       timeout=120)
    check(p.returncode == 0, f"rerun: exit {p.returncode}: {p.stderr.decode()[-1500:]}")
    iso = ec2.describe_security_groups(GroupIds=[c["isolation_group"]])["SecurityGroups"][0]
    check(iso["IpPermissionsEgress"] == [] and record(p)["containment"][
        "isolation_rules_found"] == 1, f"rerun: {iso}")


def topic_queue(moto, name):
    """An SNS topic with an SQS queue subscribed (raw delivery): what was published."""
    sns, sqs = moto.client("sns"), moto.client("sqs")
    topic = sns.create_topic(Name=name)["TopicArn"]
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn,
                  Attributes={"RawMessageDelivery": "true"})

    def published():
        out = []
        while True:
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
            if not got:
                return out
            out += [json.loads(m["Body"]) for m in got]
    return topic, published


def case_notifications(moto):
    """A message per milestone on the topic, in order, each naming case and instance."""
    iid, _, _, deny = contained_instance(moto)
    topic, published = topic_queue(moto, "forensics-milestones")
    p = respond(moto, iid, "--deny-profile", deny, "--topic-arn", topic)
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr.decode()[-1500:]}")
    msgs = published()
    check([m["milestone"] for m in msgs] == ["started", "preserved", "snapshots", "contained",
                                             "finished"], f"milestones: {msgs}")
    check(all(m["case_id"] == "IR-7" and m["instance_id"] == iid and m["summary"] and m["at"]
              for m in msgs), f"messages: {msgs}")
    check("2 snapshots" in msgs[2]["summary"], f"{msgs[2]}")
    check(sum(1 for s, r in steps(record(p)) if s == "notify" and r == "ok") == 5,
          f"{steps(record(p))}")
    # A run that fails says so on the topic too.
    p = respond(moto, "i-0123456789abcdef0", "--topic-arn", topic)
    check(p.returncode == EXIT_NO_INSTANCE, f"exit {p.returncode}")
    msgs = published()
    check([m["milestone"] for m in msgs] == ["failed"] and "exit 21" in msgs[0]["summary"],
          f"{msgs}")
    # The failed message names the step that failed and AWS's answer.
    check(msgs[0]["failed_steps"] == ["describe"] and "(describe)" in msgs[0]["summary"] and
          msgs[0]["errors"][0]["code"] == "InvalidInstanceID.NotFound" and
          msgs[0]["case_id"] == "IR-7", f"{msgs[0]}")


def case_record_resumed(moto):
    """The record is kept in S3, written at each milestone; a rerun resumes from it and
    takes no second set of snapshots; the instance as first found is kept."""
    ec2, s3 = moto.client("ec2"), moto.s3()
    iid = launch(moto)
    key_arn = moto.client("kms").create_key(Description="forensics")["KeyMetadata"]["Arn"]
    if "forensics-cases" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        moto.create_bucket("forensics-cases")
    args = ("--record", "s3://forensics-cases/cases/", "--kms-key", key_arn,
            "--share-with", FORENSICS_ACCOUNT)
    key = f"cases/IR-7/{iid}/record.json"
    with FaultProxy(moto.endpoint) as proxy:
        p = respond(moto, iid, *args, AWS_ENDPOINT_URL_S3=proxy.endpoint)
        puts = [r for r in proxy.records(method="PUT") if r.path.endswith(key)]
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr.decode()[-1500:]}")
    check(len(puts) >= 5, f"the record was written {len(puts)} times, not at each milestone")
    stored = json.loads(s3.get_object(Bucket="forensics-cases", Key=key)["Body"].read())
    check(stored == record(p), "the stored record differs from the printed one")

    def taken():
        return sorted(s["SnapshotId"] for s in ec2.describe_snapshots(Filters=[
            {"Name": "tag:ForensicsSourceInstance", "Values": [iid]}])["Snapshots"])
    first = taken()
    check(len(first) == 4, f"snapshots and copies: {first}")
    p = respond(moto, iid, *args)
    check(p.returncode == 0, f"rerun: exit {p.returncode}: {p.stderr.decode()[-1500:]}")
    check(taken() == first, f"a rerun took snapshots again: {taken()} != {first}")
    rec = record(p)
    check(rec["runs"] == 2 and "resumed" in rec, f"runs: {rec.get('runs')}")
    skipped = [(t["step"], t["run"]) for t in rec["timeline"] if t["result"] == "skipped"]
    check(skipped == [("preserve", 2), ("snapshots", 2)], f"skipped: {skipped}")
    run2 = [t["step"] for t in rec["timeline"] if t["run"] == 2]
    check("copy" not in run2 and "share" not in run2, f"copied or shared again: {run2}")
    check("termination-protection" not in run2 and "console-output" not in run2,
          f"preserved again: {run2}")
    check(rec["instance"]["disable_api_termination"] is False and
          rec["instance"]["shutdown_behavior"] == "terminate", "the first-found state is lost")
    iso = rec["containment"]["isolation_group"]
    check(all([g["id"] for g in e["groups"]] != [iso]
              for e in rec["instance"]["network_interfaces"]) and
          all([g["id"] for g in e["groups"]] == [iso]
              for e in rec["instance_now"]["network_interfaces"]), "instance / instance_now")
    check(json.loads(s3.get_object(Bucket="forensics-cases", Key=key)["Body"].read()) == rec,
          "the stored record is not the rerun's")


def case_record_unusable(moto):
    """A stored record of another case (or not JSON) stops the run before it does anything."""
    ec2, s3 = moto.client("ec2"), moto.s3()
    iid = launch(moto)
    if "forensics-cases" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        moto.create_bucket("forensics-cases")
    key = f"cases/IR-7/{iid}/record.json"
    for body, words in ((json.dumps({"case_id": "IR-8", "instance_id": iid, "timeline": []}),
                         ("another case",)), ("not json", ("not a case record",))):
        s3.put_object(Bucket="forensics-cases", Key=key, Body=body.encode())
        p = respond(moto, iid, "--record", "s3://forensics-cases/cases/")
        one_error(p, EXIT_RECORD, key, *words)
    check(ec2.describe_instance_attribute(InstanceId=iid, Attribute="disableApiTermination")
          ["DisableApiTermination"]["Value"] is False, "the instance was touched")
    check(s3.get_object(Bucket="forensics-cases", Key=key)["Body"].read() == b"not json",
          "the stored record was overwritten")


def case_release(moto):
    """release puts back groups, Elastic IP, profile and attributes from the stored record;
    the snapshots and the policy revoking older sessions stay."""
    ec2, iam, s3 = moto.client("ec2"), moto.client("iam"), moto.s3()
    iid, role, allocation, deny = contained_instance(moto)
    if "forensics-cases" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]:
        moto.create_bucket("forensics-cases")
    before = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    addr_before = ec2.describe_addresses(AllocationIds=[allocation])["Addresses"][0]
    prof_before = ec2.describe_iam_instance_profile_associations(
        Filters=[{"Name": "instance-id", "Values": [iid]}])["IamInstanceProfileAssociations"]
    rec_args = ("--record", "s3://forensics-cases/cases/")
    p = respond(moto, iid, "--deny-profile", deny, *rec_args)
    check(p.returncode == 0, f"respond: exit {p.returncode}: {p.stderr.decode()[-1500:]}")
    snaps = [s["snapshot_id"] for s in record(p)["snapshots"]]
    p = subprocess.run([CONTROLLER, "release", iid, "--case", "IR-7", *rec_args],
                       env=moto.env(AWS_ENDPOINT_URL=moto.endpoint), capture_output=True,
                       timeout=120)
    check(p.returncode == 0, f"release: exit {p.returncode}: {p.stderr.decode()[-1500:]}")
    after = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    groups = {e["NetworkInterfaceId"]: sorted(g["GroupId"] for g in e["Groups"])
              for e in after["NetworkInterfaces"]}
    want = {e["NetworkInterfaceId"]: sorted(g["GroupId"] for g in e["Groups"])
            for e in before["NetworkInterfaces"]}
    check(groups == want, f"groups {groups} != {want}")
    addr = ec2.describe_addresses(AllocationIds=[allocation])["Addresses"][0]
    # Back on the ENI it was on (moto then reports InstanceId as "").
    was = addr_before["NetworkInterfaceId"]
    check(was and addr.get("AssociationId") and addr.get("NetworkInterfaceId") == was,
          f"Elastic IP not back on {was}: {addr}")
    prof = ec2.describe_iam_instance_profile_associations(
        Filters=[{"Name": "instance-id", "Values": [iid]}])["IamInstanceProfileAssociations"]
    check([a["IamInstanceProfile"]["Arn"] for a in prof] ==
          [a["IamInstanceProfile"]["Arn"] for a in prof_before], f"profile: {prof}")
    check(ec2.describe_instance_attribute(InstanceId=iid, Attribute="disableApiTermination")
          ["DisableApiTermination"]["Value"] is False, "termination protection still on")
    check(ec2.describe_instance_attribute(
        InstanceId=iid, Attribute="instanceInitiatedShutdownBehavior")
        ["InstanceInitiatedShutdownBehavior"]["Value"] == "terminate", "shutdown not restored")
    dot = {m["DeviceName"]: m["Ebs"]["DeleteOnTermination"] for m in after["BlockDeviceMappings"]}
    check(dot == {"/dev/sda1": True, "/dev/sdf": True}, f"DeleteOnTermination: {dot}")
    tags = {t["Key"]: t["Value"] for t in after.get("Tags", [])}
    check(tags.get("SecurityIncidentStatus") == "Released", f"tags: {tags}")
    iam.get_role_policy(RoleName=role, PolicyName="ForensicsRevokeOlderSessions")  # still there
    check(len(ec2.describe_snapshots(SnapshotIds=snaps)["Snapshots"]) == len(snaps),
          "snapshots gone")
    rec = record(p)
    check(rec["runs"] == 2 and rec["command"] == "release" and rec["release"]["tagged"],
          f"record: {rec.get('release')}")
    check(json.loads(s3.get_object(Bucket="forensics-cases", Key=f"cases/IR-7/{iid}/record.json")
                     ["Body"].read()) == rec, "the stored record is not the release's")


def case_release_without_record(moto):
    iid = launch(moto)
    p = subprocess.run([CONTROLLER, "release", iid, "--case", "IR-7"],
                       env=moto.env(AWS_ENDPOINT_URL=moto.endpoint), capture_output=True)
    one_error(p, EXIT_USAGE, "--record is required")
    if "forensics-cases" not in [b["Name"] for b in moto.s3().list_buckets()["Buckets"]]:
        moto.create_bucket("forensics-cases")
    p = subprocess.run([CONTROLLER, "release", iid, "--case", "IR-7", "--record",
                        "s3://forensics-cases/cases/"],
                       env=moto.env(AWS_ENDPOINT_URL=moto.endpoint), capture_output=True)
    one_error(p, EXIT_RECORD, "no case record", iid)


def asg_instance(moto, name):
    """An instance launched by an Auto Scaling group of one, registered with an ALB target
    group (the group's own) and a classic ELB (registered by hand)."""
    ec2, asg = moto.client("ec2"), moto.client("autoscaling")
    elb, elbv2 = moto.client("elb"), moto.client("elbv2")
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]]
    vpc = ec2.describe_subnets(SubnetIds=subnets[:1])["Subnets"][0]["VpcId"]
    tg = elbv2.create_target_group(Name=f"{name}-tg", Protocol="HTTP", Port=80, VpcId=vpc,
                                   TargetType="instance")["TargetGroups"][0]["TargetGroupArn"]
    elb.create_load_balancer(LoadBalancerName=f"{name}-clb", AvailabilityZones=[
        f"{moto.region}a"], Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80,
                                         "InstancePort": 80}])
    asg.create_launch_configuration(LaunchConfigurationName=f"{name}-lc",
                                    ImageId="ami-12c6146b", InstanceType="t3.micro")
    asg.create_auto_scaling_group(AutoScalingGroupName=name, LaunchConfigurationName=f"{name}-lc",
                                  MinSize=1, MaxSize=2, DesiredCapacity=1,
                                  VPCZoneIdentifier=subnets[0], TargetGroupARNs=[tg])
    iid = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])[
        "AutoScalingGroups"][0]["Instances"][0]["InstanceId"]
    elb.register_instances_with_load_balancer(LoadBalancerName=f"{name}-clb",
                                              Instances=[{"InstanceId": iid}])
    return iid, tg, f"{name}-clb"


def attachments(moto, iid, name, tg, clb):
    """(in the group, target group ports, in the classic ELB) as boto3 sees them."""
    asg, elb, elbv2 = moto.client("autoscaling"), moto.client("elb"), moto.client("elbv2")
    group = asg.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"][0]
    in_group = iid in [i["InstanceId"] for i in group["Instances"]]
    ports = [t["Target"].get("Port") for t in elbv2.describe_target_health(
        TargetGroupArn=tg)["TargetHealthDescriptions"] if t["Target"]["Id"] == iid]
    in_clb = iid in [i["InstanceId"] for i in elb.describe_load_balancers(
        LoadBalancerNames=[clb])["LoadBalancerDescriptions"][0]["Instances"]]
    return in_group, ports, in_clb


def case_auto_scaling_and_balancers(moto):
    """respond and contain take the instance out of its Auto Scaling group (no decrement),
    its target group and its classic ELB, and say so in the record; release leaves it out
    unless --reattach, which puts it back."""
    if "forensics-cases" not in [b["Name"] for b in moto.s3().list_buckets()["Buckets"]]:
        moto.create_bucket("forensics-cases")
    for command in ("respond", "contain"):
        name = f"web-{command}"
        iid, tg, clb = asg_instance(moto, name)
        check(attachments(moto, iid, name, tg, clb) == (True, [80], True),
              f"{command}: set-up {attachments(moto, iid, name, tg, clb)}")
        p = subprocess.run([CONTROLLER, command, iid, "--case", f"IR-{command}", "--record",
                            "s3://forensics-cases/cases/"],
                           env=moto.env(AWS_ENDPOINT_URL=moto.endpoint), capture_output=True,
                           timeout=120)
        check(p.returncode == 0, f"{command}: exit {p.returncode}: {p.stderr.decode()[-1500:]}")
        check(attachments(moto, iid, name, tg, clb) == (False, [], False),
              f"{command}: still attached: {attachments(moto, iid, name, tg, clb)}")
        group = moto.client("autoscaling").describe_auto_scaling_groups(
            AutoScalingGroupNames=[name])["AutoScalingGroups"][0]
        check(group["DesiredCapacity"] == 1, f"{command}: desired capacity {group}")
        d = record(p)["detachment"]
        check(d["auto_scaling_group"]["name"] == name and
              d["auto_scaling_group"]["action"] == "detached" and
              d["classic_load_balancers"] == [clb] and
              d["target_groups"] == [{"arn": tg, "port": 80}], f"{command}: record {d}")
        release = [CONTROLLER, "release", iid, "--case", f"IR-{command}", "--record",
                   "s3://forensics-cases/cases/"]
        p = subprocess.run(release, env=moto.env(AWS_ENDPOINT_URL=moto.endpoint),
                           capture_output=True, timeout=120)
        check(p.returncode == 0, f"release: exit {p.returncode}: {p.stderr.decode()[-1500:]}")
        check(attachments(moto, iid, name, tg, clb) == (False, [], False),
              "release without --reattach put it back")
        check(record(p)["release"]["left_detached"] == d, f"{record(p)['release']}")
        p = subprocess.run(release + ["--reattach"], env=moto.env(AWS_ENDPOINT_URL=moto.endpoint),
                           capture_output=True, timeout=120)
        check(p.returncode == 0, f"reattach: exit {p.returncode}: {p.stderr.decode()[-1500:]}")
        got = attachments(moto, iid, name, tg, clb)
        check(got[0] and 80 in got[1] and got[2], f"{command}: not back: {got}")
        check(record(p)["release"]["reattached"]["auto_scaling_group"] == name,
              f"{record(p)['release']}")


EVIDENCE, TOOLS = "forensics-evidence", "forensics-tools"
AGENT_URL = f"s3://{TOOLS}/agent/forensics-agent"


def agent_options():
    """The controller's options naming the agent the document fetches (the real one)."""
    with open(AGENT, "rb") as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    return ["--agent-url", AGENT_URL, "--agent-sha256", sha]


def memory_ready(moto):
    """The evidence and tools buckets, the agent in the tools bucket, the project's document
    in moto's SSM and the writer role."""
    buckets = [b["Name"] for b in moto.s3().list_buckets()["Buckets"]]
    for name in (EVIDENCE, TOOLS):
        if name not in buckets:
            moto.create_bucket(name)
    if TOOLS not in buckets:
        with open(AGENT, "rb") as f:
            moto.put(TOOLS, "agent/forensics-agent", f.read())
    ssm, iam = moto.client("ssm"), moto.client("iam")
    if not ssm.list_documents(Filters=[{"Key": "Owner", "Values": ["Self"]}])[
            "DocumentIdentifiers"]:
        with open(ssmdoc.DOC) as f:
            ssm.create_document(Content=f.read(), Name=ssmdoc.NAME, DocumentType="Command",
                                DocumentFormat="JSON")
    if "writer" not in [r["RoleName"] for r in iam.list_roles()["Roles"]]:
        iam.create_role(RoleName="writer", AssumeRolePolicyDocument=TRUST)
        iam.put_role_policy(RoleName="writer", PolicyName="put", PolicyDocument=ALLOW_ALL)
    return iam.get_role(RoleName="writer")["Role"]["Arn"]


class SsmAtProxy:
    """What moto's SSM leaves out, played at the proxy on each SendCommand: a document the
    account does not have is answered InvalidDocument (as SSM does; moto accepts any name),
    and with `run`, the document's script is run here with the parameters sent, as SSM
    Agent would on the instance, before the command is accepted (moto's SSM runs nothing
    and reports Success at once)."""

    def __init__(self, moto, proxy, run=None):
        self.ssm = moto.client("ssm")
        self.moto, self.run, self.sent, self.runs = moto, run, [], []
        self.missing = error(400, "InvalidDocument", "The specified SSM document does not exist.")
        proxy.add_rule(Rule(self.missing, action="SendCommand", when=self.hook, count=None))

    def hook(self, rec):
        req = json.loads(rec.body)
        self.sent.append(req)
        try:
            self.ssm.describe_document(Name=req["DocumentName"])
        except self.ssm.exceptions.InvalidDocument:
            return True
        if self.run:
            values = {k: v[0] for k, v in req["Parameters"].items()}
            self.runs.append(ssmdoc.run_script(ssmdoc.load(), values, self.moto.env(),
                                               self.run))
        return False


def source_files(tmp):
    """A small file source for the agent (2 MiB of RAM) and the options that select it."""
    mem, iomem = os.path.join(tmp, "mem"), os.path.join(tmp, "iomem")
    with open(mem, "wb") as f:
        f.write(os.urandom(2 << 20))
    with open(iomem, "w") as f:
        f.write("00001000-0009fbff : System RAM\n00100000-001fffff : System RAM\n")
    return f"--source file --source-path {mem} --iomem {iomem} --path-style"


def play_agent(moto, iid, case_id="IR-7", env=None):
    """What the SSM command would have done, for the cases that are not about it (moto's
    SSM runs nothing): the real agent, on a small file source, writing image, manifest
    and bundle into the case/instance prefix the controller names. Returns the manifest
    the agent logged."""
    if EVIDENCE not in [b["Name"] for b in moto.s3().list_buckets()["Buckets"]]:
        moto.create_bucket(EVIDENCE)
    with tempfile.TemporaryDirectory() as tmp:
        args = source_files(tmp).split()
        p = subprocess.run([AGENT, "acquire", *args, "--log-format", "json", "--case", case_id,
                            "--output", f"s3://{EVIDENCE}/cases/{case_id}/{iid}/"],
                           env=env or moto.env(), capture_output=True, timeout=120, cwd=tmp)
    check(p.returncode == 0, f"agent: exit {p.returncode}: {p.stderr.decode()[-600:]}")
    return [r for r in log_records(p.stderr) if r["event"] == "manifest"][-1]["manifest"]


def check_manifest(rec, logged, iid):
    """The record's manifest is the agent's, read back from the bucket and its image there."""
    got = rec["memory"]["manifest"]
    img = logged["image"]
    want = {"key": img["s3"]["key"] + ".manifest.json",
            "image": {k: img["s3"][k] for k in ("bucket", "key", "etag", "version_id")},
            "sha256_uncompressed": img["sha256_uncompressed"],
            "sha256_compressed": img["sha256_compressed"], "ram_bytes": img["ram_bytes"],
            "source": "file", "image_exists": True, "image_etag_matches": True,
            "from": "object", "manifests_found": 1}
    check({k: got.get(k) for k in want} == want, f"manifest {got} != {want}")
    check(got["image"]["key"].startswith(f"cases/IR-7/{iid}/") and
          got["image"]["bucket"] == EVIDENCE, f"image: {got['image']}")
    check(("memory-manifest", "ok") in steps(rec), f"{steps(rec)}")


def case_memory_through_ssm(moto):
    """The project's document sent by SSM Run Command with exactly its parameters, the
    writer-role credentials narrowed by a session policy to the case's prefix (no long-lived
    key on the instance), every value within the document's allowedPattern; its script, run
    here with those very parameters, fetches and checks the real agent, which writes the
    evidence with those credentials; the controller then collects that manifest."""
    writer = memory_ready(moto)
    ssm = moto.client("ssm")
    iid = launch(moto)
    prefix = f"cases/IR-7/{iid}/"
    with tempfile.TemporaryDirectory() as tmp, FaultProxy(moto.endpoint) as proxy:
        extra = source_files(tmp)
        instance = SsmAtProxy(moto, proxy, run=tmp)
        p = respond(moto, iid, "--evidence", "s3://forensics-evidence/cases/",
                    "--writer-role-arn", writer, *agent_options(),
                    "--module-store", "s3://forensics-tools/modules/", "--agent-args", extra,
                    endpoint=proxy.endpoint)
        assume = [r for r in proxy.records(op="AssumeRole")]
        polls = len(proxy.records(op="GetCommandInvocation"))
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr.decode()[-1500:]}")
    from urllib.parse import parse_qs
    form = parse_qs(assume[0].body.decode())
    policy = json.loads(form["Policy"][0])
    check(form["RoleArn"] == [writer] and policy["Statement"][0]["Resource"] ==
          f"arn:aws:s3:::forensics-evidence/{prefix}*" and
          "s3:PutObject" in policy["Statement"][0]["Action"], f"session policy: {form}")
    check(sorted(policy["Statement"][0]["Action"]) ==
          ["s3:AbortMultipartUpload", "s3:GetObject", "s3:ListMultipartUploadParts",
           "s3:PutObject", "s3:PutObjectTagging"], f"session policy actions: {policy}")
    kms = policy["Statement"][1]
    # The session's credentials are all the agent has: it reads its module store with them.
    check(len(policy["Statement"]) == 3 and policy["Statement"][2] ==
          {"Effect": "Allow", "Action": "s3:GetObject",
           "Resource": "arn:aws:s3:::forensics-tools/modules/*"},
          f"session policy, the module store: {policy}")
    check(kms["Resource"] == "*" and
          sorted(kms["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"] and
          kms["Condition"] == {"StringEquals": {"kms:ViaService": f"s3.{moto.region}.amazonaws.com"}},
          f"session policy, KMS through S3: {policy}")
    cmds = ssm.list_commands(InstanceId=iid)["Commands"]
    # moto adds every instance of the region to a command sent without Targets: what was
    # asked for is read at the proxy.
    check(len(cmds) == 1 and cmds[0]["DocumentName"] == "forensics-acquire" and
          instance.sent[0]["InstanceIds"] == [iid] and
          instance.sent[0]["DocumentName"] == "forensics-acquire", f"{cmds}")
    sent = cmds[0]["Parameters"]
    check(all(isinstance(v, list) and len(v) == 1 for v in sent.values()), f"{sent}")
    values = {k: v[0] for k, v in sent.items()}
    session = {k: values.pop(k, None) for k in
               ("SessionAccessKeyId", "SessionSecretAccessKey", "SessionToken")}
    want = {"EvidenceBucket": EVIDENCE, "EvidencePrefix": prefix, "CaseId": "IR-7",
            "Region": moto.region, "AgentUrl": AGENT_URL,
            "AgentSha256": agent_options()[3], "CredentialsMode": "session",
            "Source": "auto", "ExtraArgs": "--module-store s3://forensics-tools/modules/ " + extra,
            "ExecutionTimeout": "14400"}
    check(values == want, f"parameters {values} != {want}")
    check(all(session.values()) and moto.access_key not in session.values() and
          moto.secret_key not in session.values(), "long-lived keys (or no session) sent")
    ssmdoc.check_values(ssmdoc.load(), {k: v[0] for k, v in sent.items()})
    check(instance.sent[0]["Parameters"] == sent, "moto kept other parameters than were sent")
    # The script ran with those parameters; the agent wrote with the session credentials.
    check(len(instance.runs) == 1 and instance.runs[0].returncode == 0,
          f"script: {[(r.returncode, r.stderr.decode()[-800:]) for r in instance.runs]}")
    logged = [r for r in log_records(instance.runs[0].stderr)
              if r["event"] == "manifest"][-1]["manifest"]
    rec = record(p)
    mem = rec["memory"]
    check(mem["command_id"] == cmds[0]["CommandId"] and mem["invocation"]["status"] == "Success"
          and mem["output"] == f"s3://forensics-evidence/{prefix}" and
          mem["document"] == "forensics-acquire" and mem["parameters"] == want,
          f"memory: {mem}")
    blob = json.dumps(rec) + p.stderr.decode()
    check(not any(v in blob for v in session.values()),
          "the writer's session credentials leaked into the record or the log")
    check(polls >= 1, "the invocation was never asked for")
    names = [st for st, _ in steps(rec)]
    check(names.index("memory-acquired") < names.index("memory-manifest") <
          names.index("snapshots"), f"order: {names}")
    check_manifest(rec, logged, iid)


def case_memory_document_missing(moto):
    """A document the account does not have: SSM's InvalidDocument, one error line naming
    the document; snapshots and containment still done (exit 26)."""
    memory_ready(moto)
    iid = launch(moto)
    with FaultProxy(moto.endpoint) as proxy:
        SsmAtProxy(moto, proxy)
        p = respond(moto, iid, "--evidence", f"s3://{EVIDENCE}/cases/", *agent_options(),
                    "--document", "forensics-acquire-v9", endpoint=proxy.endpoint)
        sends = proxy.records(op="SendCommand")
    one_error(p, EXIT_STEP_FAILED, "SSM SendCommand", "InvalidDocument",
              "forensics-acquire-v9")
    check(len(sends) == 1 and sends[0].fault, f"SendCommand: {sends}")
    rec = record(p)
    check([t["step"] for t in rec["timeline"] if t["result"] == "failed"] == ["memory-command"]
          and "memory-acquired" not in [st for st, _ in steps(rec)] and
          len(rec["snapshots"]) == 2 and rec["containment"]["tagged"], f"{steps(rec)}")
    # Without a writer role the agent would use the instance's profile.
    check(rec["memory"]["parameters"]["CredentialsMode"] == "instance-profile" and
          "writer-credentials" not in [st for st, _ in steps(rec)], f"{rec['memory']}")


def case_memory_values_refused(moto):
    """A value the document's allowedPattern would refuse is a usage error naming the
    parameter, before anything is touched."""
    memory_ready(moto)
    iid = launch(moto)
    good = agent_options()
    for args, words in (
            (["--case", "_IR-7"], ("CaseId",)),
            (["--agent-url", "s3://forensics-tools/a b"], ("AgentUrl",)),
            (["--agent-sha256", "abc"], ("AgentSha256",)),
            (["--source", "file"], ("Source", "allowedValues")),
            (["--agent-args", "--x;id"], ("ExtraArgs",)),
            (["--acquire-timeout", "1000000"], ("ExecutionTimeout",)),
            (["--evidence", "s3://forensics-evidence/cases'x/"], ("EvidencePrefix",)),
            (["--document", "a b"], ("--document",)),
            (["--module-store", "/var/lib/modules/"], ("--module-store", "s3://")),
            (["--deny-profile", "deny all"], ("--deny-profile",))):
        with FaultProxy(moto.endpoint) as proxy:
            p = respond(moto, iid, "--evidence", f"s3://{EVIDENCE}/cases/", *good, *args,
                        endpoint=proxy.endpoint)
            calls = proxy.records()
        one_error(p, EXIT_USAGE, *words)
        check(calls == [], f"{args}: calls made: {calls}")
    p = respond(moto, iid, "--evidence", f"s3://{EVIDENCE}/cases/")
    one_error(p, EXIT_USAGE, "--agent-url", "--agent-sha256")


def case_memory_manifest_missing(moto):
    """The command succeeded but no manifest is under the prefix (or its image is not the one
    it names): a failed memory step with a clear message; snapshots and containment go on."""
    iam = moto.client("iam")
    if "writer" not in [r["RoleName"] for r in iam.list_roles()["Roles"]]:
        iam.create_role(RoleName="writer", AssumeRolePolicyDocument=TRUST)
        iam.put_role_policy(RoleName="writer", PolicyName="put", PolicyDocument=ALLOW_ALL)
    if EVIDENCE not in [b["Name"] for b in moto.s3().list_buckets()["Buckets"]]:
        moto.create_bucket(EVIDENCE)
    ec2 = moto.client("ec2")
    for broken in ("missing", "image-replaced"):
        iid = launch(moto)
        if broken == "image-replaced":
            logged = play_agent(moto, iid)
            moto.s3().put_object(Bucket=EVIDENCE, Key=logged["image"]["s3"]["key"],
                                 Body=b"not the image")
        p = respond(moto, iid, "--evidence", f"s3://{EVIDENCE}/cases/",
                    "--writer-role-arn", f"arn:aws:iam::{ACCOUNT_ID}:role/writer",
                    *agent_options())
        check(p.returncode == EXIT_STEP_FAILED, f"{broken}: exit {p.returncode}: "
              f"{p.stderr.decode()[-1500:]}")
        rec = record(p)
        failed = [t for t in rec["timeline"] if t["result"] == "failed"]
        words = {"missing": f"no *.manifest.json under s3://{EVIDENCE}/cases/IR-7/{iid}/",
                 "image-replaced": "its manifest says"}[broken]
        check([t["step"] for t in failed] == ["memory-manifest"] and
              words in failed[0]["error"] and words in p.stderr.decode(),
              f"{broken}: failed {failed}")
        names = [st for st, _ in steps(rec)]
        check(names.index("memory-manifest") < names.index("snapshots") and
              len(rec["snapshots"]) == 2 and rec["containment"]["tagged"], f"{broken}: {names}")
        tags = {t["Key"]: t["Value"] for t in ec2.describe_instances(InstanceIds=[iid])
                ["Reservations"][0]["Instances"][0].get("Tags", [])}
        check(tags.get("SecurityIncidentStatus") == "Contain", f"{broken}: tags {tags}")
        if broken == "image-replaced":
            got = rec["memory"]["manifest"]
            check(got["sha256_uncompressed"] == logged["image"]["sha256_uncompressed"] and
                  got["image_exists"] is True and got["image_etag_matches"] is False,
                  f"manifest {got}")
        else:
            check("manifest" not in rec["memory"], f"{rec['memory']}")


def event(moto, body, *args):
    return subprocess.run([CONTROLLER, "event", *args], input=body.encode(),
                          env=moto.env(AWS_ENDPOINT_URL=moto.endpoint), capture_output=True,
                          timeout=120)


def tag_event(moto, iid, status, **tags):
    return json.dumps({
        "version": "0", "id": "7f3c", "detail-type": "Tag Change on Resource",
        "source": "aws.tag", "account": ACCOUNT_ID, "time": "2026-11-28T17:00:00Z",
        "region": moto.region,
        "resources": [f"arn:aws:ec2:{moto.region}:{ACCOUNT_ID}:instance/{iid}"],
        "detail": {"changed-tag-keys": ["SecurityIncidentStatus"], "service": "ec2",
                   "resource-type": "instance",
                   "tags": {"SecurityIncidentStatus": status, **tags}}})


def case_ssm_profile(moto):
    """An instance with no profile gets ours for SSM before the command; containment then
    replaces it with the deny-all one, without revoking our role's sessions; the record's
    instance still says it had none, so release would take it off again."""
    ec2, iam = moto.client("ec2"), moto.client("iam")
    iid = launch(moto)
    if "ssm-role" not in [r["RoleName"] for r in iam.list_roles()["Roles"]]:
        iam.create_role(RoleName="ssm-role", AssumeRolePolicyDocument=TRUST)
        iam.create_instance_profile(InstanceProfileName="forensics-ssm")
        iam.add_role_to_instance_profile(InstanceProfileName="forensics-ssm", RoleName="ssm-role")
        iam.create_instance_profile(InstanceProfileName="deny-all-ssm")
    ssm_prof = iam.get_instance_profile(InstanceProfileName="forensics-ssm")["InstanceProfile"]
    deny = iam.get_instance_profile(InstanceProfileName="deny-all-ssm")["InstanceProfile"]["Arn"]
    if "writer" not in [r["RoleName"] for r in iam.list_roles()["Roles"]]:
        iam.create_role(RoleName="writer", AssumeRolePolicyDocument=TRUST)
        iam.put_role_policy(RoleName="writer", PolicyName="put", PolicyDocument=ALLOW_ALL)
    play_agent(moto, iid)
    with FaultProxy(moto.endpoint) as proxy:
        p = respond(moto, iid, "--evidence", "s3://forensics-evidence/cases/",
                    "--writer-role-arn", f"arn:aws:iam::{ACCOUNT_ID}:role/writer",
                    *agent_options(), "--ssm-profile", ssm_prof["Arn"], "--deny-profile", deny,
                    endpoint=proxy.endpoint)
        ops = [r.op for r in proxy.records()]
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr.decode()[-1500:]}")
    check(ops.index("AssociateIamInstanceProfile") < ops.index("SendCommand") <
          ops.index("ReplaceIamInstanceProfileAssociation"), f"order: {ops}")
    assoc = ec2.describe_iam_instance_profile_associations(
        Filters=[{"Name": "instance-id", "Values": [iid]}])["IamInstanceProfileAssociations"]
    check([a["IamInstanceProfile"]["Arn"] for a in assoc] == [deny], f"profile: {assoc}")
    check(iam.list_role_policies(RoleName="ssm-role")["PolicyNames"] == [],
          "our SSM role's sessions were revoked")
    rec = record(p)
    check(rec["instance"]["profile_associations"] == [] and
          rec["memory"]["ssm_profile_attached"] == ssm_prof["Arn"], f"{rec['memory']}")


def case_events(moto):
    """Events on stdin: a tag set to Analyze responds, Contain only contains, anything else
    is ignored; a manual event with --role-name acts through the member role; nonsense: 28."""
    ec2, iam = moto.client("ec2"), moto.client("iam")
    iid = launch(moto)
    p = event(moto, tag_event(moto, iid, "Analyze"))
    check(p.returncode == 0, f"Analyze: exit {p.returncode}: {p.stderr.decode()[-1500:]}")
    rec = record(p)
    check(rec["command"] == "respond" and rec["case_id"] == f"{iid}-20261128" and
          len(rec["snapshots"]) == 2 and rec["containment"]["tagged"], f"{steps(rec)}")

    iid = launch(moto)
    p = event(moto, tag_event(moto, iid, "Contain", ForensicsCaseId="IR-9"))
    check(p.returncode == 0, f"Contain: exit {p.returncode}: {p.stderr.decode()[-1500:]}")
    rec = record(p)
    check(rec["command"] == "contain" and rec["case_id"] == "IR-9" and "snapshots" not in rec
          and rec["containment"]["enis_isolated"], f"{steps(rec)}")

    iid = launch(moto)
    p = event(moto, tag_event(moto, iid, "Released"))
    check(p.returncode == 0 and not p.stdout, f"Released: exit {p.returncode} {p.stdout!r}")
    tags = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0].get(
        "Tags", [])
    check(tags == [], f"an ignored event touched the instance: {tags}")

    response_role(moto)
    manual = json.dumps({"CaseId": "IR-10", "InstanceId": iid, "Account": ACCOUNT_ID,
                         "Region": moto.region, "Action": "Contain"})
    p = event(moto, manual, "--role-name", "ForensicsResponse", "--external-id", "ext-42")
    check(p.returncode == 0, f"manual: exit {p.returncode}: {p.stderr.decode()[-1500:]}")
    rec = record(p)
    check(rec["role_arn"] == f"arn:aws:iam::{ACCOUNT_ID}:role/ForensicsResponse" and
          ":assumed-role/ForensicsResponse/" in rec["identity"]["arn"] and
          rec["case_id"] == "IR-10", f"{rec.get('identity')}")

    p = event(moto, '{"source": "aws.ec2"}')
    one_error(p, EXIT_EVENT, "not a tag change")


def tags_event(moto, iid, changed):
    """The tag change EventBridge sends after a change of the keys changed: the instance's
    tags as they are now."""
    tags = {t["Key"]: t["Value"] for t in moto.client("ec2").describe_instances(
        InstanceIds=[iid])["Reservations"][0]["Instances"][0].get("Tags", [])}
    return json.dumps({
        "version": "0", "id": "7f3d", "detail-type": "Tag Change on Resource",
        "source": "aws.tag", "account": ACCOUNT_ID, "time": "2026-11-28T17:00:00Z",
        "region": moto.region,
        "resources": [f"arn:aws:ec2:{moto.region}:{ACCOUNT_ID}:instance/{iid}"],
        "detail": {"changed-tag-keys": list(changed), "service": "ec2",
                   "resource-type": "instance", "tags": tags}})


def records_of(p):
    """Every case record printed (one per instance the event named)."""
    out, text, dec = [], p.stdout.decode(), json.JSONDecoder()
    while text.strip():
        rec, end = dec.raw_decode(text.lstrip())
        out.append(rec)
        text = text.lstrip()[end:]
    return out


def case_events_own_and_released(moto):
    """The Contain tag the controller writes starts nothing; a person setting Contain again
    does; after release, a new Analyze opens a new case (preserved and snapshotted again)
    instead of resuming the released one."""
    if "forensics-cases" not in [b["Name"] for b in moto.s3().list_buckets()["Buckets"]]:
        moto.create_bucket("forensics-cases")
    rec_args = ("--record", "s3://forensics-cases/cases/")
    iid = launch(moto)
    p = event(moto, tag_event(moto, iid, "Analyze"), *rec_args)
    check(p.returncode == 0, f"Analyze: exit {p.returncode}: {p.stderr.decode()[-1500:]}")
    first = record(p)["case_id"]
    tags = {t["Key"]: t["Value"] for t in moto.client("ec2").describe_instances(
        InstanceIds=[iid])["Reservations"][0]["Instances"][0]["Tags"]}
    check(tags["SecurityIncidentStatus"] == "Contain" and
          tags["ForensicsController"].startswith(f"Contain {first} "), f"tags: {tags}")
    own = tags_event(moto, iid, ["SecurityIncidentStatus", "ForensicsCaseId",
                                 "ForensicsController"])
    p = event(moto, own, *rec_args)
    check(p.returncode == 0 and not p.stdout and b"own tag change" in p.stderr,
          f"own change: exit {p.returncode} {p.stdout[:200]!r} {p.stderr[-500:]!r}")
    p = event(moto, tags_event(moto, iid, ["SecurityIncidentStatus"]), *rec_args)
    check(p.returncode == 0 and record(p)["command"] == "contain" and
          record(p)["case_id"] == first, f"Contain by hand: exit {p.returncode}")

    p = subprocess.run([CONTROLLER, "release", iid, "--case", first, *rec_args],
                       env=moto.env(AWS_ENDPOINT_URL=moto.endpoint), capture_output=True,
                       timeout=120)
    check(p.returncode == 0, f"release: exit {p.returncode}: {p.stderr.decode()[-1500:]}")
    p = event(moto, tags_event(moto, iid, ["SecurityIncidentStatus", "ForensicsController"]),
              *rec_args)
    check(p.returncode == 0 and not p.stdout, "the Released tag started something")
    ec2 = moto.client("ec2")
    ec2.create_tags(Resources=[iid], Tags=[{"Key": "SecurityIncidentStatus",
                                            "Value": "Analyze"}])
    p = event(moto, tags_event(moto, iid, ["SecurityIncidentStatus"]), *rec_args)
    check(p.returncode == 0, f"Analyze again: exit {p.returncode}: {p.stderr.decode()[-1500:]}")
    rec = record(p)
    check(rec["case_id"] == f"{iid}-20261128T170000Z" and rec["runs"] == 1 and
          "skipped" not in [r for _, r in steps(rec)], f"new case: {rec['case_id']} "
          f"{steps(rec)}")
    check(rec["preservation"]["termination_protection"] is True and len(rec["snapshots"]) == 2,
          f"new case not preserved: {rec.get('preservation')}")
    check(ec2.describe_instance_attribute(InstanceId=iid, Attribute="disableApiTermination")
          ["DisableApiTermination"]["Value"] is True, "termination protection off")


def case_security_hub_several(moto):
    """A Security Hub custom action naming two instances responds to both."""
    a, b = launch(moto), launch(moto)
    res = [{"Type": "AwsEc2Instance",
            "Id": f"arn:aws:ec2:{moto.region}:{ACCOUNT_ID}:instance/{i}"} for i in (a, b)]
    ev = json.dumps({"source": "aws.securityhub", "time": "2026-11-27T01:02:03Z",
                     "detail-type": "Security Hub Findings - Custom Action",
                     "detail": {"actionName": "Forensics", "findings": [
                         {"Resources": res[:1]}, {"Resources": res}]}})
    p = event(moto, ev)
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr.decode()[-1500:]}")
    recs = records_of(p)
    check([r["instance_id"] for r in recs] == [a, b] and
          all(r["containment"]["enis_isolated"] for r in recs), f"{len(recs)} records")


class FakeRuntime:
    """The Lambda Runtime API, serving the events given and keeping what comes back."""

    def __init__(self, events):
        import http.server
        import threading
        self.events = list(events)
        self.answers = []  # (request id, "response" or "error", body)
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path != "/2018-06-01/runtime/invocation/next" or not outer.events:
                    self.send_error(404)
                    return
                n = len(outer.answers) + len(outer.events)
                body = outer.events.pop(0).encode()
                self.send_response(200)
                self.send_header("Lambda-Runtime-Aws-Request-Id", f"req-{n}")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                parts = self.path.split("/")
                outer.answers.append((parts[-2], parts[-1], json.loads(body)))
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.address = f"127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def case_lambda_runtime(moto):
    """As a custom runtime: the event from the Runtime API runs, with the function's
    FORENSICS_* configuration; success answers a response, a failure an error."""
    ec2 = moto.client("ec2")
    iid = launch(moto)
    rt = FakeRuntime([tag_event(moto, iid, "Contain", ForensicsCaseId="IR-11"),
                      '{"source": "nonsense"}'])
    try:
        env = moto.env(AWS_ENDPOINT_URL=moto.endpoint, AWS_LAMBDA_RUNTIME_API=rt.address,
                       FORENSICS_ROLE_NAME="ForensicsResponse",
                       FORENSICS_OPTIONS="--external-id ext-42  --log-format json")
        response_role(moto)
        for _ in range(2):
            p = subprocess.run([CONTROLLER, "lambda", "--once"], env=env, capture_output=True,
                               timeout=120)
            check(p.returncode == 0, f"exit {p.returncode}: {p.stderr.decode()[-1500:]}")
        answers = rt.answers
    finally:
        rt.close()
    check(answers[0][1] == "response" and answers[0][2] == {"exit_code": 0}, f"{answers}")
    check(answers[1][1] == "error" and answers[1][2]["errorType"] == "ExitCode28", f"{answers}")
    tags = {t["Key"]: t["Value"] for t in ec2.describe_instances(InstanceIds=[iid])[
        "Reservations"][0]["Instances"][0].get("Tags", [])}
    check(tags.get("SecurityIncidentStatus") == "Contain" and tags.get("ForensicsCaseId") ==
          "IR-11", f"tags: {tags}")


FAULT_ACTIONS = ["ModifyInstanceAttribute", "GetConsoleOutput", "SendCommand",
                 "GetCommandInvocation", "CreateSnapshots", "DescribeSnapshots", "CopySnapshot",
                 "ModifySnapshotAttribute", "DescribeSecurityGroups",
                 "ModifyNetworkInterfaceAttribute", "DisassociateAddress", "GetInstanceProfile",
                 "PutRolePolicy", "ReplaceIamInstanceProfileAssociation", "Publish", "CreateTags"]


def case_refused_at_each_step(moto):
    """Each API refused in turn (403, every call of it): the run goes on, the record names the
    failed step with AWS's code, exit 26, and the instance still ends contained."""
    iam = moto.client("iam")
    if "writer" not in [r["RoleName"] for r in iam.list_roles()["Roles"]]:
        iam.create_role(RoleName="writer", AssumeRolePolicyDocument=TRUST)
        iam.put_role_policy(RoleName="writer", PolicyName="put", PolicyDocument=ALLOW_ALL)
    key = moto.client("kms").create_key(Description="forensics")["KeyMetadata"]["Arn"]
    topic, _ = topic_queue(moto, "refusals")
    bad = []
    for action in FAULT_ACTIONS:
        iid, _, _, deny = contained_instance(moto)
        play_agent(moto, iid)
        with FaultProxy(moto.endpoint) as proxy:
            proxy.add_rule(Rule(error(403, "UnauthorizedOperation", f"no {action}"),
                                action=action, nth=1, count=None))
            p = respond(moto, iid, "--kms-key", key, "--share-with", FORENSICS_ACCOUNT,
                        "--deny-profile", deny, "--topic-arn", topic,
                        "--evidence", "s3://forensics-evidence/cases/",
                        "--writer-role-arn", f"arn:aws:iam::{ACCOUNT_ID}:role/writer",
                        *agent_options(), endpoint=proxy.endpoint)
            hit = len([r for r in proxy.records() if r.fault])
        try:
            rec = record(p)
        except ValueError:
            bad.append(f"{action}: no record ({p.returncode})")
            continue
        failed = [t for t in rec["timeline"] if t["result"] == "failed"]
        tags = {t["Key"]: t["Value"] for t in moto.client("ec2").describe_instances(
            InstanceIds=[iid])["Reservations"][0]["Instances"][0].get("Tags", [])}
        contained = tags.get("SecurityIncidentStatus") == "Contain"
        if (p.returncode != EXIT_STEP_FAILED or not hit or not failed or
                any(t.get("code") != "UnauthorizedOperation" or action not in t["error"]
                    for t in failed) or
                (action != "CreateTags" and not contained) or
                (action == "CreateTags" and contained) or rec["finished"] is not False):
            bad.append(f"{action}: exit {p.returncode}, {hit} faults, failed "
                       f"{[(t['step'], t.get('code')) for t in failed]}, tags {tags}")
    check(not bad, "; ".join(bad))


def case_profile_and_eip(moto):
    """The instance profile association and the Elastic IP are recorded (containment's input)."""
    ec2, iam = moto.client("ec2"), moto.client("iam")
    iid = launch(moto)
    prof = iam.create_instance_profile(InstanceProfileName="app-prof")["InstanceProfile"]
    assoc = ec2.associate_iam_instance_profile(
        IamInstanceProfile={"Arn": prof["Arn"]}, InstanceId=iid)["IamInstanceProfileAssociation"]
    alloc = ec2.allocate_address(Domain="vpc")
    ec2.associate_address(InstanceId=iid, AllocationId=alloc["AllocationId"])
    p = respond(moto, iid)
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr.decode()[-1500:]}")
    inst = record(p)["instance"]
    check([a["association_id"] for a in inst["profile_associations"]] ==
          [assoc["AssociationId"]], f"associations: {inst['profile_associations']}")
    check(inst["profile_associations"][0]["profile_arn"] == prof["Arn"], "profile arn")
    check([a["allocation_id"] for a in inst["elastic_ips"]] == [alloc["AllocationId"]],
          f"elastic ips: {inst['elastic_ips']}")


def case_unknown_instance(moto):
    p = respond(moto, "i-0123456789abcdef0")
    one_error(p, EXIT_NO_INSTANCE, "EC2 DescribeInstances", "InvalidInstanceID.NotFound",
              "i-0123456789abcdef0")
    rec = record(p)
    check(steps(rec)[-1] == ("describe", "failed") and rec["finished"] is False, f"{steps(rec)}")
    check(rec["timeline"][-1]["code"] == "InvalidInstanceID.NotFound", f"{rec['timeline']}")


def case_wrong_secret(moto):
    iid = launch(moto)
    p = respond(moto, iid, AWS_SECRET_ACCESS_KEY="not-the-secret")
    one_error(p, EXIT_DENIED, "STS GetCallerIdentity", "SignatureDoesNotMatch")
    check(moto.client("ec2").describe_instance_attribute(
        InstanceId=iid, Attribute="disableApiTermination")["DisableApiTermination"]["Value"]
        is False, "an unauthenticated run changed the instance")


def case_bad_credentials(moto):
    """A wrong secret is refused credentials (20) whatever the run meets first: STS, the
    record in S3, or AssumeRole; a missing key is 10."""
    if "forensics-cases" not in [b["Name"] for b in moto.s3().list_buckets()["Buckets"]]:
        moto.create_bucket("forensics-cases")
    iid = launch(moto)
    arn = response_role(moto)["Arn"]
    for name, args, words in (
            ("plain", (), ("STS GetCallerIdentity", "SignatureDoesNotMatch")),
            ("record", ("--record", "s3://forensics-cases/cases/"), ("SignatureDoesNotMatch",)),
            ("role", ("--role-arn", arn, "--external-id", "ext-42"),
             ("STS AssumeRole", "SignatureDoesNotMatch"))):
        p = respond(moto, iid, *args, AWS_SECRET_ACCESS_KEY="not-the-secret")
        check(p.returncode == EXIT_DENIED, f"{name}: exit {p.returncode}, want {EXIT_DENIED}: "
              f"{p.stderr.decode()[-800:]}")
        one_error(p, EXIT_DENIED, *words)
    check(moto.client("ec2").describe_instance_attribute(
        InstanceId=iid, Attribute="disableApiTermination")["DisableApiTermination"]["Value"]
        is False, "an unauthenticated run changed the instance")


def case_wrong_account(moto):
    iid = launch(moto)
    p = respond(moto, iid, "--account", "210987654321")
    one_error(p, EXIT_WRONG_ACCOUNT, ACCOUNT_ID, "210987654321")


def case_bad_instance_id(moto):
    p = respond(moto, "i-xyz")
    one_error(p, EXIT_USAGE, "not an instance id")


def case_help_is_each_commands_own(moto):
    """respond, contain and release --help: each its own usage and only its options."""
    table = (("respond", ("--kms-key", "--evidence", "--deny-profile", "--no-contain"),
              ("--reattach",)),
             ("contain", ("--deny-profile", "--record", "--ssm-profile"),
              ("--kms-key", "--evidence", "--no-contain", "--reattach", "Usage: forensics-"
               "controller respond")),
             ("release", ("--record", "--reattach"),
              ("--kms-key", "--evidence", "--deny-profile", "Usage: forensics-controller "
               "respond")))
    for command, has, lacks in table:
        p = subprocess.run([CONTROLLER, command, "--help"], capture_output=True, text=True)
        check(p.returncode == 0 and p.stdout.startswith(f"Usage: forensics-controller {command} ")
              and p.stdout.count("Usage:") == 1, f"{command} --help: {p.stdout[:300]}")
        check(all(h in p.stdout for h in has) and not any(x in p.stdout for x in lacks),
              f"{command} --help: {p.stdout}")
    iid = launch(moto)
    one_error(respond(moto, iid, "--reattach"), EXIT_USAGE, "--reattach")


def case_throttling_retried(moto):
    iid = launch(moto)
    with FaultProxy(moto.endpoint) as proxy:
        proxy.add_rule(Rule(error(503, "RequestLimitExceeded", "Request limit exceeded."),
                            action="DescribeInstances", nth=1, count=2))
        proxy.add_rule(Rule(error(400, "Throttling", "Rate exceeded"),
                            action="GetCallerIdentity", nth=1, count=1))
        proxy.add_rule(Rule(error(500, "InternalError", "An internal error has occurred"),
                            action="ModifyInstanceAttribute", nth=2, count=1))
        p = respond(moto, iid, endpoint=proxy.endpoint)
        check(p.returncode == 0, f"exit {p.returncode}: {p.stderr.decode()[-1500:]}")
        faults = [(r.op, r.fault) for r in proxy.records() if r.fault]
    check(faults == [("GetCallerIdentity", "400 Throttling"),
                     ("DescribeInstances", "503 RequestLimitExceeded"),
                     ("DescribeInstances", "503 RequestLimitExceeded"),
                     ("ModifyInstanceAttribute", "500 InternalError")], f"faults: {faults}")
    check(all(s[1] == "ok" for s in steps(record(p))), f"{steps(record(p))}")


def case_clock_corrected(moto):
    """RequestExpired with the server's Date an hour ahead: the clock is corrected and the
    call sent again at once (moto itself does not check request times)."""
    import time
    from faultproxy import Fault
    iid = launch(moto)
    skew = Fault("error", "body", "400 RequestExpired", status=400, code="RequestExpired",
                 message="Request has expired.", server_time=lambda: time.time() + 3600)
    with FaultProxy(moto.endpoint) as proxy:
        proxy.add_rule(Rule(skew, action="DescribeInstances", nth=1, count=1))
        p = respond(moto, iid, "--no-contain", endpoint=proxy.endpoint)
        recs = proxy.records(op="DescribeInstances")
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr.decode()[-1500:]}")
    check([r.fault for r in recs] == ["400 RequestExpired", None], f"{recs}")
    dates = [r.headers.get("x-amz-date") for r in recs]
    check(dates[1] > dates[0] and dates[1][:8] + dates[1][9:11] != dates[0][:8] + dates[0][9:11],
          f"the resend was not signed an hour later: {dates}")
    check(recs[1].started - recs[0].started < 1.0, "the resend waited for a backoff")


def case_throttled_to_the_end(moto):
    iid = launch(moto)
    with FaultProxy(moto.endpoint) as proxy:
        proxy.add_rule(Rule(error(503, "RequestLimitExceeded", "Request limit exceeded."),
                            action="DescribeInstances", nth=1, count=None))
        p = respond(moto, iid, endpoint=proxy.endpoint)
        n = len(proxy.records(op="DescribeInstances"))
    one_error(p, EXIT_THROTTLED, "EC2 DescribeInstances", "RequestLimitExceeded")
    check(n == 8, f"{n} attempts, want the bounded 8")


def response_role(moto):
    """The member account's response role (made once): trusts us with ext-42, may do all."""
    iam = moto.client("iam")
    if "ForensicsResponse" not in [r["RoleName"] for r in iam.list_roles()["Roles"]]:
        iam.create_role(RoleName="ForensicsResponse", AssumeRolePolicyDocument=TRUST)
        # moto checks the role's own permissions on every call made with its session.
        iam.put_role_policy(RoleName="ForensicsResponse", PolicyName="respond",
                            PolicyDocument=ALLOW_ALL)
    return iam.get_role(RoleName="ForensicsResponse")["Role"]


def case_assume_role(moto):
    iid = launch(moto)
    role = response_role(moto)
    with FaultProxy(moto.endpoint) as proxy:
        p = respond(moto, iid, "--role-arn", role["Arn"], "--external-id", "ext-42",
                    endpoint=proxy.endpoint)
        assume = [r for r in proxy.records(op="AssumeRole")]
    check(p.returncode == 0, f"exit {p.returncode}: {p.stderr.decode()[-1500:]}")
    check(len(assume) == 1, f"{len(assume)} AssumeRole calls")
    from urllib.parse import parse_qs
    form = parse_qs(assume[0].body.decode())
    check(form["RoleArn"] == [role["Arn"]] and form["ExternalId"] == ["ext-42"] and
          form["RoleSessionName"] == ["forensics-IR-7"], f"AssumeRole form: {form}")
    rec = record(p)
    check(rec["role_arn"] == role["Arn"], "record lacks the role")
    check(":assumed-role/ForensicsResponse/forensics-IR-7" in rec["identity"]["arn"],
          f"the calls did not use the role: {rec['identity']}")
    check(steps(rec)[0] == ("assume-role", "ok"), f"{steps(rec)}")


def case_role_refreshed(moto):
    """The assumed role's credentials are fetched again once within 5 minutes of expiring,
    not before (driven by tests/tools/role-refresh with a clock it chooses)."""
    tool = os.path.join(BUILD, "tools", "role-refresh")
    check(os.access(tool, os.X_OK), "missing: build it with `make unit`")
    arn = response_role(moto)["Arn"]
    with FaultProxy(moto.endpoint) as proxy:
        p = subprocess.run([tool, moto.region, arn, "ext-42", "--", "-900", "-301", "-299"],
                           env=moto.env(AWS_ENDPOINT_URL=proxy.endpoint),
                           capture_output=True, timeout=60)
        calls = len(proxy.records(op="AssumeRole"))
    check(p.returncode == 0, f"exit {p.returncode}: {p.stdout!r} {p.stderr!r}")
    lines = [json.loads(x) for x in p.stdout.decode().splitlines()]
    check(all(x["ret"] == 0 for x in lines), f"{lines}")
    keys = [x["key_sha256"] for x in lines]
    # start, 15 min and 301 s before it expires: the first session; 299 s before: a new one.
    check(keys[0] == keys[1] == keys[2] and keys[3] != keys[2], f"keys: {keys}")
    check(calls == 2, f"{calls} AssumeRole calls, want 2")
    check(lines[3]["source"].startswith("assumed role ") and
          lines[3]["expiration"] >= lines[0]["expiration"], f"{lines}")


def case_role_not_assumed(moto):
    """A wrong external id: refused by the trust policy, not retried, nothing touched."""
    iid = launch(moto)
    arn = response_role(moto)["Arn"]
    with FaultProxy(moto.endpoint) as proxy:
        p = respond(moto, iid, "--role-arn", arn, "--external-id", "wrong",
                    endpoint=proxy.endpoint)
        n = len(proxy.records(op="AssumeRole"))
        touched = [r.op for r in proxy.records() if r.op not in ("AssumeRole",)]
    one_error(p, EXIT_ASSUME_ROLE, "STS AssumeRole", "AccessDenied")
    check(n == 1, f"a refusal was retried: {n} calls")
    check(touched == [], f"calls after a refused role: {touched}")
    check(steps(record(p)) == [("assume-role", "failed")], f"{steps(record(p))}")


def main():
    if not suite.require(CONTROLLER, "make controller"):
        return suite.finish()
    with MotoServer(auth=True) as moto:
        for fn in (case_preserves, case_snapshots, case_step_refused, case_respond_contains,
                   case_contain_only, case_isolation_group, case_notifications, case_record_resumed,
                   case_record_unusable, case_release, case_release_without_record,
                   case_auto_scaling_and_balancers,
                   case_memory_through_ssm, case_memory_document_missing,
                   case_memory_values_refused, case_memory_manifest_missing, case_ssm_profile,
                   case_events, case_events_own_and_released, case_security_hub_several,
                   case_lambda_runtime,
                   case_refused_at_each_step,
                   case_profile_and_eip, case_unknown_instance,
                   case_wrong_secret, case_bad_credentials, case_wrong_account, case_bad_instance_id,
                   case_help_is_each_commands_own,
                   case_throttling_retried, case_clock_corrected, case_throttled_to_the_end,
                   case_assume_role,
                   case_role_refreshed, case_role_not_assumed):
            suite.run(fn.__name__.removeprefix("case_").replace("_", " "), fn, moto)
    return suite.finish()


if __name__ == "__main__":
    sys.exit(main())
