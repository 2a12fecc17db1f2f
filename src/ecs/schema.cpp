#include "ecs/schema.h"

#include "ecs/ecs.h"
#include "store/migrations.h"

namespace berth::ecs {
namespace {

// Times are epoch seconds with a fraction (REAL), as the JSON shapes carry
// them. Rows list in rowid order (creation order) unless a query sorts.
constexpr store::Migration kMigrations[] = {
    {1, "clusters, tags, task definitions, container instances, tasks", R"sql(
CREATE TABLE ecs_clusters (
  name TEXT PRIMARY KEY, status TEXT NOT NULL, doc TEXT NOT NULL);
CREATE TABLE ecs_tags (
  arn TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (arn, key));
CREATE TABLE ecs_task_definitions (
  family TEXT NOT NULL, revision INTEGER NOT NULL, status TEXT NOT NULL,
  deregistered_at REAL, doc TEXT NOT NULL, PRIMARY KEY (family, revision));
CREATE TABLE ecs_container_instances (
  id TEXT PRIMARY KEY, cluster TEXT NOT NULL, ec2_instance_id TEXT NOT NULL, status TEXT NOT NULL,
  agent_connected INTEGER NOT NULL, registered_at REAL NOT NULL, updated_at REAL NOT NULL, doc TEXT NOT NULL);
CREATE INDEX ecs_container_instances_by_cluster ON ecs_container_instances(cluster);
CREATE INDEX ecs_container_instances_by_ec2 ON ecs_container_instances(ec2_instance_id);
CREATE TABLE ecs_tasks (
  id TEXT PRIMARY KEY, cluster TEXT NOT NULL, container_instance_id TEXT NOT NULL,
  task_definition_arn TEXT NOT NULL, family TEXT NOT NULL, launch_type TEXT NOT NULL,
  last_status TEXT NOT NULL, desired_status TEXT NOT NULL, started_by TEXT NOT NULL,
  grp TEXT NOT NULL, cpu INTEGER NOT NULL, memory INTEGER NOT NULL, host_ports TEXT NOT NULL,
  created_at REAL NOT NULL, stopped_at REAL, doc TEXT NOT NULL);
CREATE INDEX ecs_tasks_by_cluster ON ecs_tasks(cluster, desired_status);
CREATE INDEX ecs_tasks_by_instance ON ecs_tasks(container_instance_id);
)sql"},
    {2, "tasks remember whether a runtime was asked to run them", R"sql(
ALTER TABLE ecs_tasks ADD COLUMN launched INTEGER NOT NULL DEFAULT 0;
)sql"},
    {3, "awsvpc tasks name their network interface (ec2_network_interfaces)", R"sql(
ALTER TABLE ecs_tasks ADD COLUMN eni_id TEXT NOT NULL DEFAULT '';
)sql"},
    {4, "services and their events; tasks name their service and the load balancer targets they hold", R"sql(
CREATE TABLE ecs_services (
  cluster TEXT NOT NULL, name TEXT NOT NULL, status TEXT NOT NULL, created_at REAL NOT NULL,
  doc TEXT NOT NULL, state TEXT NOT NULL DEFAULT '{}', PRIMARY KEY (cluster, name));
CREATE TABLE ecs_service_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, cluster TEXT NOT NULL, service TEXT NOT NULL,
  id TEXT NOT NULL, created_at REAL NOT NULL, message TEXT NOT NULL);
CREATE INDEX ecs_service_events_by_service ON ecs_service_events(cluster, service, seq);
ALTER TABLE ecs_tasks ADD COLUMN service TEXT NOT NULL DEFAULT '';
ALTER TABLE ecs_tasks ADD COLUMN targets TEXT NOT NULL DEFAULT '';
ALTER TABLE ecs_tasks ADD COLUMN drain_until REAL;
CREATE INDEX ecs_tasks_by_service ON ecs_tasks(cluster, service);
)sql"},
    {5, "the service deployment history (ListServiceDeployments)", R"sql(
CREATE TABLE ecs_service_deployments (
  arn TEXT PRIMARY KEY, cluster TEXT NOT NULL, service TEXT NOT NULL, deployment_id TEXT NOT NULL UNIQUE,
  created_at REAL NOT NULL, status TEXT NOT NULL, doc TEXT NOT NULL);
CREATE INDEX ecs_service_deployments_by_service ON ecs_service_deployments(cluster, service);
)sql"},
};

}  // namespace

Status prepare_ecs_store(store::Database& db) { return store::apply_migrations(db, "ecs", kMigrations); }

}  // namespace berth::ecs
