// berth status's picture of a stack (render_status is pure; collecting
// from a live daemon is covered by tests/workshop).
#include <gtest/gtest.h>

#include "cli/status.h"

namespace berth::cli {
namespace {

StatusView workshop() {
  StatusView v;
  v.endpoint = "http://127.0.0.1:4566";
  ClusterView c{"outyet-cluster", "ACTIVE", {}, {}, {}};
  c.instances.push_back({"arn:i-0aaa", "i-0aaa", "ACTIVE", true, 1024, 1024, 512, 256});
  c.instances.push_back({"arn:i-0bbb", "i-0bbb", "ACTIVE", false, 1024, 1024, 512, 384});
  ServiceView s{"outyet-service", "ACTIVE", 3, 2, 1, {}};
  s.deployments.push_back({"PRIMARY", "outyet-task:2", "IN_PROGRESS", 3, 2, 1});
  s.deployments.push_back({"ACTIVE", "outyet-task:1", "COMPLETED", 0, 1, 0});
  c.services.push_back(s);
  c.tasks.push_back(
      {"0123abcd", "outyet-task:2", "RUNNING", "HEALTHY", "service:outyet-service", "i-0aaa 32768->8080"});
  c.tasks.push_back({"4567ef01", "outyet-fargate:1", "RUNNING", "UNKNOWN", "family:outyet-fargate", "eni 10.0.1.5"});
  v.clusters.push_back(c);
  LoadBalancerView lb{"outyet-alb", "active", {"http://outyet-alb-1.us-east-1.elb.localhost/"}, {}};
  lb.target_groups.push_back({"outyet-alb-target-group", "instance", {{"i-0aaa", "32768", "healthy", ""},
                                                                      {"i-0bbb", "32770", "draining",
                                                                       "Target.DeregistrationInProgress"}}});
  lb.target_groups.push_back({"empty-group", "ip", {}});
  v.load_balancers.push_back(lb);
  return v;
}

TEST(Status, OneScreenWithInstancesServicesTasksAndTargets) {
  EXPECT_EQ(render_status(workshop()),
            "berth at http://127.0.0.1:4566\n"
            "\n"
            "cluster outyet-cluster (ACTIVE)\n"
            "  INSTANCE  STATUS  AGENT         CPU FREE/REG  MEMORY FREE/REG\n"
            "  i-0aaa    ACTIVE  connected     1024/1024     256/512 MiB\n"
            "  i-0bbb    ACTIVE  disconnected  1024/1024     384/512 MiB\n"
            "  SERVICE         DESIRED  RUNNING  PENDING  DEPLOYMENTS\n"
            "  outyet-service  3        2        1        PRIMARY outyet-task:2 IN_PROGRESS 2/3, ACTIVE outyet-task:1 "
            "COMPLETED 1/0\n"
            "  TASK      DEFINITION        STATUS   HEALTH   GROUP                   WHERE\n"
            "  0123abcd  outyet-task:2     RUNNING  HEALTHY  service:outyet-service  i-0aaa 32768->8080\n"
            "  4567ef01  outyet-fargate:1  RUNNING  UNKNOWN  family:outyet-fargate   eni 10.0.1.5\n"
            "\n"
            "load balancer outyet-alb (active)  http://outyet-alb-1.us-east-1.elb.localhost/\n"
            "  target group outyet-alb-target-group (instance)\n"
            "   i-0aaa:32768  healthy\n"
            "   i-0bbb:32770  draining  Target.DeregistrationInProgress\n"
            "  target group empty-group (ip): no targets\n");
}

TEST(Status, SaysWhenThereIsNothing) {
  StatusView empty;
  empty.endpoint = "http://127.0.0.1:4566";
  EXPECT_EQ(render_status(empty), "berth at http://127.0.0.1:4566\n\nno clusters\n");
}

}  // namespace
}  // namespace berth::cli
