"""The ECS set-up that task tests and benches share: a busybox image in the
daemon's ECR, and container instances from `ec2 run-instances` that join a
cluster as the ECS agent would (their user data names it).

    image = push_busybox(daemon, "busybox", work_dir)
    instances, arns = join_instances(daemon, "bench", count=4, instance_type="m5.xlarge")

Needs skopeo and busybox-static (scripts/install-deps.sh).
"""
import glob
import os
import time

from oci_images import make_busybox_layout

ECS_AMI = "ami-0c9a0d5a8b4e7f312"  # an ECS-optimized AMI: its instances run the agent


def push_busybox(daemon, repository, work_dir, tag="latest"):
    """Creates `repository` in the daemon's ECR and pushes the busybox image
    (oci_images.make_busybox_layout) to it; returns the image, uri:tag."""
    uri = daemon.aws("ecr", "create-repository", "--repository-name", repository)["repository"]["repositoryUri"]
    layout = os.path.join(work_dir, "layout-" + repository)
    make_busybox_layout(layout, tag)
    image = "%s:%s" % (uri, tag)
    daemon.push_layout(layout, image, tag)
    return image


def unpacked_image_root(daemon):
    """The root filesystem the daemon unpacked from its one cached image
    (a task's read-only lower layer): what a bench's bare runc runs on."""
    roots = glob.glob(os.path.join(daemon.data_dir, "runtime", "images", "*", "rootfs"))
    if len(roots) != 1:
        raise RuntimeError("expected one unpacked image, found %s" % roots)
    return roots[0]


def join_instances(daemon, cluster, count=1, instance_type="t2.micro", timeout=30.0, **run_instances):
    """Runs `count` ECS-optimized instances whose user data names `cluster`
    (more RunInstances arguments as keywords, e.g. SecurityGroupIds), then
    waits until that many more container instances are registered in it.
    Returns (the instances as RunInstances answered, the new container
    instance arns); RuntimeError after `timeout` seconds."""
    ec2, ecs = daemon.client("ec2"), daemon.client("ecs")
    known = set(ecs.list_container_instances(cluster=cluster)["containerInstanceArns"])
    instances = ec2.run_instances(
        ImageId=ECS_AMI, InstanceType=instance_type, MinCount=count, MaxCount=count,
        UserData="#!/bin/bash\necho ECS_CLUSTER=%s >> /etc/ecs/ecs.config\n" % cluster, **run_instances)["Instances"]
    deadline = time.monotonic() + timeout
    while True:
        joined = [a for a in ecs.list_container_instances(cluster=cluster)["containerInstanceArns"] if a not in known]
        if len(joined) >= count:
            return instances, joined
        if time.monotonic() > deadline:
            raise RuntimeError("%d of %d container instances joined cluster %s within %.0f s" % (
                len(joined), count, cluster, timeout))
        time.sleep(0.1)
