// berth's console: sign-in, hash routes, pages re-read every second.
import { ApiError, cloudwatch, ec2, ecr, ecs, elbv2, forgetCredentials, list, loadCredentials, logs,
  redeemSignInToken, saveCredentials, sts } from "./api.js";
import { badge, confirmDialog, h, lastPart, table, when } from "./dom.js";
import { metricsChart } from "./chart.js";

const POLL_MS = 1000;
const app = () => document.getElementById("app");
let notice = null;        // {kind: "error"|"ok", text}
let generation = 0;       // bumps on navigation, so a late answer of the old page is dropped
let timer = null;
let rendered = "";        // the HTML last put on screen, so an unchanged poll touches nothing

const link = (href, text) => h("a", { href }, text);
// "arn:...:targetgroup/outyet-alb-target-group/5af3..." -> "outyet-alb-target-group"
const groupName = (arn) => String(arn || "").split(":targetgroup/")[1]?.split("/")[0] || lastPart(arn);
const enc = encodeURIComponent;

function say(kind, text) {
  notice = { kind, text };
  const box = document.getElementById("notice");
  if (box) box.replaceWith(noticeBox());
}
function noticeBox() {
  if (!notice) return h("div", { id: "notice" });
  return h("div", { id: "notice", class: `notice ${notice.kind}`, role: notice.kind === "error" ? "alert" : "status" },
    h("span", {}, notice.text),
    h("button", { class: "link", "aria-label": "Dismiss", onclick: () => {
      notice = null;
      document.getElementById("notice")?.replaceWith(noticeBox());
    } }, "×"));
}

// An action through the API: errors (IAM's refusal too) shown as AWS wrote them.
async function act(what, fn) {
  try {
    await fn();
    say("ok", what);
    kick();
  } catch (e) {
    say("error", e instanceof ApiError && e.code ? `${e.code}: ${e.message}` : String(e.message || e));
  }
}

// ---- sign-in -----------------------------------------------------------

function showSignIn(error) {
  clearTimeout(timer);
  generation++;
  rendered = "";
  app().replaceChildren(signInPage(error));
}

function signInPage(error) {
  const form = h("form", { class: "sign-in", "aria-labelledby": "sign-in-title", onsubmit: async (ev) => {
    ev.preventDefault();
    const f = new FormData(ev.target);
    const c = { accessKeyId: f.get("key").trim(), secretAccessKey: f.get("secret").trim(),
      region: f.get("region").trim() || "us-east-1" };
    saveCredentials(c);
    try {
      const who = await sts("GetCallerIdentity");
      saveCredentials({ ...c, arn: who.Arn });
      start();
    } catch (e) {
      forgetCredentials();
      showSignIn(e.code ? `${e.code}: ${e.message}` : e.message);
    }
  } },
  h("h1", { id: "sign-in-title" }, "berth console"),
  h("p", {}, "Sign in with an access key (", h("code", {}, "berth env"), " prints the administrator's), or open the link ",
    h("code", {}, "berth console-url"), " prints."),
  error ? h("p", { class: "notice error", role: "alert" }, error) : null,
  h("label", { for: "key" }, "Access key ID"),
  h("input", { id: "key", name: "key", autocomplete: "username", required: true, spellcheck: "false" }),
  h("label", { for: "secret" }, "Secret access key"),
  h("input", { id: "secret", name: "secret", type: "password", autocomplete: "current-password", required: true }),
  h("label", { for: "region" }, "Region"),
  h("input", { id: "region", name: "region", value: "us-east-1" }),
  h("button", { type: "submit" }, "Sign in"));
  return h("main", { id: "main" }, form);
}

// ---- routes ------------------------------------------------------------

const NAV = [["#/clusters", "Clusters"], ["#/load-balancers", "Load balancers"], ["#/target-groups", "Target groups"],
  ["#/repositories", "ECR"], ["#/security-groups", "Security groups"], ["#/key-pairs", "Key pairs"],
  ["#/instances", "Instances"]];

function route() {
  const decode = (x) => { try { return decodeURIComponent(x); } catch { return x; } };
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decode);
  const [a, b, c, d, e] = parts;
  if (a === "clusters" && b && c === "services" && d) return { page: servicePage, args: [b, d, e || "tasks"] };
  if (a === "clusters" && b && c === "tasks" && d) return { page: taskPage, args: [b, d] };
  if (a === "clusters" && b) return { page: clusterPage, args: [b] };
  if (a === "load-balancers") return { page: loadBalancersPage, args: [] };
  if (a === "target-groups") return { page: targetGroupsPage, args: [b] };
  if (a === "repositories") return { page: repositoriesPage, args: [b] };
  if (a === "security-groups") return { page: securityGroupsPage, args: [] };
  if (a === "key-pairs") return { page: keyPairsPage, args: [] };
  if (a === "instances") return { page: instancesPage, args: [] };
  return { page: clustersPage, args: [] };
}

function shell(content) {
  const who = loadCredentials();
  const here = "#/" + (location.hash.replace(/^#\/?/, "").split("/")[0] || "clusters");
  return [
    h("a", { class: "skip", href: "#main-content", onclick: (ev) => { ev.preventDefault(); document.getElementById("main-content")?.focus(); } }, "Skip to content"),
    h("header", {},
      h("a", { class: "brand", href: "#/clusters" }, "berth"),
      h("nav", { "aria-label": "Pages" }, h("ul", {}, NAV.map(([href, text]) =>
        h("li", {}, h("a", { href, "aria-current": href === here ? "page" : null }, text))))),
      h("div", { class: "who" }, h("span", { title: who?.arn }, lastPart(who?.arn) || who?.accessKeyId),
        h("button", { class: "link", onclick: () => { forgetCredentials(); location.hash = ""; start(); } }, "Sign out"))),
    noticeBox(),
    h("main", { id: "main-content", tabindex: "-1" }, content)];
}

// Re-renders in place; keeps focus (by data-key) and skips while the user
// types in a field, so a poll never eats a keystroke.
function render(nodes) {
  const root = app();
  const active = document.activeElement;
  if (active && root.contains(active) && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName)) return;
  const next = h("div", {}, nodes);
  if (rendered === next.innerHTML) return;
  rendered = next.innerHTML;
  const key = active?.dataset?.key || (active?.getAttribute && active.getAttribute("href"));
  const scroll = Array.from(root.querySelectorAll(".table-wrap"), (w) => w.scrollLeft);
  root.replaceChildren(...next.childNodes);
  root.querySelectorAll(".table-wrap").forEach((w, i) => { w.scrollLeft = scroll[i] || 0; });
  if (key) {
    const again = root.querySelector(`[data-key="${CSS.escape(key)}"]`) || root.querySelector(`a[href="${CSS.escape(key)}"]`);
    again?.focus();
  }
}

async function refresh() {
  clearTimeout(timer);
  const mine = generation;
  const { page, args } = route();
  try {
    const content = await page(...args);
    if (mine !== generation) return;
    document.title = `${content.title} · berth`;
    render(shell(content.body));
  } catch (e) {
    if (mine !== generation) return;
    if (e instanceof ApiError && (e.code === "InvalidClientTokenId" || e.code === "UnrecognizedClientException" || e.code === "AuthFailure" ||
        e.code === "NotSignedIn")) {
      forgetCredentials();
      showSignIn(`${e.code}: ${e.message}`);
      return;
    }
    render(shell([h("h1", {}, "Could not load this page"), h("p", { class: "notice error", role: "alert" },
      e instanceof ApiError && e.code ? `${e.code}: ${e.message}` : String(e.message || e))]));
  }
  if (mine === generation) timer = setTimeout(refresh, POLL_MS);
}
function kick() { generation++; refresh(); }

// ---- ECS ---------------------------------------------------------------

async function describeAll(listOp, listInput, listKey, describeOp, describeInput, key, chunk = 100) {
  const arns = [];
  let token;
  for (let i = 0; i < 20; i++) {
    const r = await ecs(listOp, { ...listInput, nextToken: token });
    arns.push(...list(r[listKey]));
    token = r.nextToken;
    if (!token) break;
  }
  const out = [];
  for (let i = 0; i < arns.length; i += chunk) {
    const r = await ecs(describeOp, { ...describeInput, [key]: arns.slice(i, i + chunk) });
    out.push(...list(r[Object.keys(r).find((k) => Array.isArray(r[k]) && k !== "failures")]));
  }
  return out;
}

async function clustersPage() {
  const clusters = await describeAll("ListClusters", {}, "clusterArns", "DescribeClusters", {}, "clusters");
  return { title: "Clusters", body: [h("h1", {}, "Clusters"), table(
    ["Cluster", "Status", "Services", "Running tasks", "Pending tasks", "Container instances"],
    clusters.map((c) => [link(`#/clusters/${enc(c.clusterName)}`, c.clusterName), badge(c.status),
      c.activeServicesCount, c.runningTasksCount, c.pendingTasksCount, c.registeredContainerInstancesCount]),
    "Clusters")] };
}

function bar(label, registered, remaining) {
  const used = Math.max(0, registered - remaining);
  const pct = registered ? Math.round((used / registered) * 100) : 0;
  return h("div", { class: "bar-row" }, h("span", {}, `${label} ${used} / ${registered}`),
    h("meter", { min: 0, max: registered || 1, value: used, "aria-label": `${label} used` }), h("span", {}, `${pct}%`));
}
const resource = (list_, name) => (list(list_).find((r) => r.name === name) || {}).integerValue || 0;

function taskRows(cluster, tasks) {
  return tasks.map((t) => {
    const id = lastPart(t.taskArn);
    return [link(`#/clusters/${enc(cluster)}/tasks/${enc(id)}`, id), badge(t.lastStatus), t.desiredStatus,
      t.healthStatus || "-", lastPart(t.taskDefinitionArn), t.startedBy || "-", when(t.startedAt),
      t.stoppedReason || "-"];
  });
}
const TASK_HEADERS = ["Task", "Last status", "Desired", "Health", "Task definition", "Started by", "Started at",
  "Stopped reason"];
const TASK_WIDE_ONLY = [2, 4, 5, 6];  // a phone shows the task, its status, health, stop reason (and Stop)

async function clusterPage(cluster) {
  const [services, tasks, instances] = await Promise.all([
    describeAll("ListServices", { cluster }, "serviceArns", "DescribeServices", { cluster }, "services", 10),
    describeAll("ListTasks", { cluster }, "taskArns", "DescribeTasks", { cluster }, "tasks"),
    describeAll("ListContainerInstances", { cluster }, "containerInstanceArns", "DescribeContainerInstances",
      { cluster }, "containerInstances")]);
  return { title: cluster, body: [
    h("p", { class: "crumbs" }, link("#/clusters", "Clusters"), " / ", cluster),
    h("h1", {}, `Cluster ${cluster}`),
    h("h2", {}, "Services"),
    table(["Service", "Status", "Desired", "Running", "Pending", "Launch type", "Task definition"],
      services.map((s) => [link(`#/clusters/${enc(cluster)}/services/${enc(s.serviceName)}`, s.serviceName),
        badge(s.status), s.desiredCount, s.runningCount, s.pendingCount, s.launchType || "-",
        lastPart(s.taskDefinition)]), "Services"),
    h("h2", {}, "Tasks"),
    table(TASK_HEADERS, taskRows(cluster, tasks), "Tasks", TASK_WIDE_ONLY),
    h("h2", {}, "Container instances"),
    table(["Instance", "Status", "Running tasks", "CPU", "Memory"], instances.map((ci) => [
      ci.ec2InstanceId, badge(ci.status), ci.runningTasksCount,
      bar("CPU", resource(ci.registeredResources, "CPU"), resource(ci.remainingResources, "CPU")),
      bar("Memory", resource(ci.registeredResources, "MEMORY"), resource(ci.remainingResources, "MEMORY"))]),
    "Container instances")] };
}

async function targetHealth(arn) {
  const r = await elbv2("DescribeTargetHealth", { TargetGroupArn: arn });
  return list(r.TargetHealthDescriptions);
}

function healthTable(groupArn, rows, withActions) {
  return table(["Target", "Port", "State", "Reason", "Description", ...(withActions ? ["Action"] : [])],
    rows.map((d) => [d.Target?.Id, d.Target?.Port, badge(d.TargetHealth?.State), d.TargetHealth?.Reason || "-",
      d.TargetHealth?.Description || "-", ...(withActions ? [h("button", {
        "data-key": `dereg-${d.Target?.Id}-${d.Target?.Port}`, onclick: async () => {
          if (!await confirmDialog("Deregister target", `Deregister ${d.Target.Id}:${d.Target.Port} from ${groupName(groupArn)}?`, "Deregister")) return;
          act(`Deregistered ${d.Target.Id}:${d.Target.Port}`, () => elbv2("DeregisterTargets",
            { TargetGroupArn: groupArn, Targets: [{ Id: d.Target.Id, Port: d.Target.Port }] }));
        } }, "Deregister")] : [])]), `Targets of ${groupName(groupArn)}`);
}

const TABS = [["tasks", "Tasks"], ["events", "Events"], ["deployments", "Deployments"], ["health", "Target health"],
  ["metrics", "Metrics"]];

async function servicePage(cluster, name, tab) {
  const described = await ecs("DescribeServices", { cluster, services: [name] });
  const s = list(described.services)[0];
  if (!s) throw new ApiError(400, "ServiceNotFoundException", `Service ${name} not found in cluster ${cluster}.`);
  const base = `#/clusters/${enc(cluster)}/services/${enc(name)}`;
  let panel;
  if (tab === "events") {
    panel = table(["Time", "Message"], list(s.events).map((e) => [when(e.createdAt), e.message]), "Events");
    panel.classList.add("events");
  } else if (tab === "deployments") {
    panel = table(["Deployment", "Status", "Task definition", "Desired", "Pending", "Running", "Failed",
      "Rollout state", "Reason", "Updated"], list(s.deployments).map((d) => [d.id, badge(d.status),
      lastPart(d.taskDefinition), d.desiredCount, d.pendingCount, d.runningCount, d.failedTasks || 0,
      badge(d.rolloutState), d.rolloutStateReason || "-", when(d.updatedAt)]), "Deployments");
  } else if (tab === "health") {
    const groups = [...new Set(list(s.loadBalancers).map((l) => l.targetGroupArn).filter(Boolean))];
    panel = await Promise.all(groups.map(async (g) => [h("h3", {}, groupName(g)),
      healthTable(g, await targetHealth(g), false)]));
    if (!groups.length) panel = h("p", {}, "This service has no load balancer.");
  } else if (tab === "metrics") {
    panel = await serviceMetrics(s);
  } else {
    const tasks = await describeAll("ListTasks", { cluster, serviceName: name }, "taskArns", "DescribeTasks",
      { cluster }, "tasks");
    panel = table([...TASK_HEADERS, "Action"], taskRows(cluster, tasks).map((row, i) => [...row,
      stopButton(cluster, tasks[i])]), "Tasks", TASK_WIDE_ONLY);
  }
  const desiredField = h("input", { id: "desired", type: "number", min: 0, max: 1000, value: s.desiredCount,
    "aria-label": "Desired tasks", class: "short" });
  return { title: name, body: [
    h("p", { class: "crumbs" }, link("#/clusters", "Clusters"), " / ", link(`#/clusters/${enc(cluster)}`, cluster),
      " / ", name),
    h("h1", {}, `Service ${name}`),
    h("dl", { class: "counts" },
      h("div", {}, h("dt", {}, "Status"), h("dd", {}, badge(s.status))),
      h("div", {}, h("dt", {}, "Desired"), h("dd", { id: "desired-count" }, s.desiredCount)),
      h("div", {}, h("dt", {}, "Running"), h("dd", { id: "running-count" }, s.runningCount)),
      h("div", {}, h("dt", {}, "Pending"), h("dd", { id: "pending-count" }, s.pendingCount)),
      h("div", {}, h("dt", {}, "Task definition"), h("dd", {}, lastPart(s.taskDefinition)))),
    h("div", { class: "actions" },
      h("form", { class: "inline", onsubmit: (ev) => {
        ev.preventDefault();
        const n = Number(ev.target.querySelector("input").value);
        ev.target.querySelector("input").blur();
        act(`Desired count of ${name} set to ${n}`, () => ecs("UpdateService", { cluster, service: name, desiredCount: n }));
      } }, h("label", { for: "desired" }, "Desired tasks"), desiredField,
      h("button", { type: "submit", "data-key": "update-desired" }, "Update")),
      h("button", { "data-key": "force", onclick: async () => {
        if (!await confirmDialog("Force new deployment", `Replace every task of ${name} with a new deployment?`, "Force new deployment")) return;
        act(`New deployment of ${name} started`, () => ecs("UpdateService", { cluster, service: name, forceNewDeployment: true }));
      } }, "Force new deployment")),
    h("nav", { class: "tabs", "aria-label": "Service tabs" }, TABS.map(([id, text]) =>
      h("a", { href: `${base}/${id}`, "aria-current": id === tab ? "page" : null }, text))),
    h("section", { "aria-label": TABS.find((t) => t[0] === tab)?.[1] }, panel)] };
}

function stopButton(cluster, t) {
  if (t.desiredStatus === "STOPPED") return "-";
  const id = lastPart(t.taskArn);
  return h("button", { class: "danger", "data-key": `stop-${id}`, onclick: async () => {
    if (!await confirmDialog("Stop task", `Stop task ${id}? A service starts a replacement.`, "Stop task")) return;
    act(`Stop requested for task ${id}`, () => ecs("StopTask", { cluster, task: t.taskArn, reason: "Stopped from the berth console" }));
  } }, "Stop");
}

async function serviceMetrics(s) {
  const groups = list(s.loadBalancers).map((l) => l.targetGroupArn).filter(Boolean);
  if (!groups.length) return h("p", {}, "This service has no load balancer.");
  const tg = list((await elbv2("DescribeTargetGroups", { TargetGroupArns: [groups[0]] })).TargetGroups)[0];
  const lbArn = list(tg?.LoadBalancerArns)[0];
  if (!lbArn) return h("p", {}, "The target group is behind no load balancer.");
  const dimension = lbArn.split(":loadbalancer/")[1];
  const end = new Date();
  const start = new Date(end.getTime() - 15 * 60 * 1000);
  const metric = (id, name, stat) => ({ Id: id, MetricStat: { Metric: { Namespace: "AWS/ApplicationELB",
    MetricName: name, Dimensions: [{ Name: "LoadBalancer", Value: dimension }] }, Period: 60, Stat: stat } });
  const r = await cloudwatch("GetMetricData", { StartTime: start.getTime() / 1000, EndTime: end.getTime() / 1000,
    ScanBy: "TimestampAscending", MetricDataQueries: [metric("requests", "RequestCount", "Sum"),
      metric("latency", "TargetResponseTime", "Average"), metric("errors", "HTTPCode_ELB_5XX_Count", "Sum")] });
  const series = Object.fromEntries(list(r.MetricDataResults).map((m) => [m.Id, list(m.Timestamps).map((t, i) =>
    [typeof t === "number" ? t * 1000 : Date.parse(t), list(m.Values)[i]])]));
  return [h("p", {}, `Load balancer ${dimension.split("/")[1]}, last 15 minutes, one-minute periods.`),
    metricsChart("Requests (sum per minute)", series.requests || [], start, end),
    metricsChart("Target response time (average, seconds)", series.latency || [], start, end),
    metricsChart("ELB 5XX (sum per minute)", series.errors || [], start, end)];
}

async function taskPage(cluster, id) {
  const t = list((await ecs("DescribeTasks", { cluster, tasks: [id] })).tasks)[0];
  if (!t) throw new ApiError(400, "InvalidParameterException", `Task ${id} not found in cluster ${cluster}.`);
  const def = (await ecs("DescribeTaskDefinition", { taskDefinition: t.taskDefinitionArn })).taskDefinition;
  const tails = await Promise.all(list(t.containers).map((c) => logTail(def, c, id)));
  return { title: `Task ${id}`, body: [
    h("p", { class: "crumbs" }, link("#/clusters", "Clusters"), " / ", link(`#/clusters/${enc(cluster)}`, cluster),
      " / task ", id),
    h("h1", {}, `Task ${id}`),
    h("dl", { class: "counts" },
      h("div", {}, h("dt", {}, "Last status"), h("dd", {}, badge(t.lastStatus))),
      h("div", {}, h("dt", {}, "Desired"), h("dd", {}, t.desiredStatus)),
      h("div", {}, h("dt", {}, "Health"), h("dd", {}, t.healthStatus || "-")),
      h("div", {}, h("dt", {}, "Task definition"), h("dd", {}, lastPart(t.taskDefinitionArn))),
      h("div", {}, h("dt", {}, "Launch type"), h("dd", {}, t.launchType || "-")),
      h("div", {}, h("dt", {}, "Started"), h("dd", {}, when(t.startedAt))),
      h("div", {}, h("dt", {}, "Stop code"), h("dd", {}, t.stopCode || "-")),
      h("div", {}, h("dt", {}, "Stopped reason"), h("dd", {}, t.stoppedReason || "-"))),
    h("div", { class: "actions" }, stopButton(cluster, t)),
    h("h2", {}, "Containers"),
    table(["Container", "Last status", "Health", "Exit code", "Reason", "Network"], list(t.containers).map((c) => [
      c.name, badge(c.lastStatus), c.healthStatus || "-", c.exitCode ?? "-", c.reason || "-",
      [...list(c.networkBindings).map((b) => `${b.bindIP}:${b.hostPort} → ${b.containerPort}/${b.protocol}`),
        ...list(c.networkInterfaces).map((n) => `ENI ${n.privateIpv4Address}`)].join(", ") || "-"]), "Containers"),
    ...tails] };
}

async function logTail(def, container, taskId) {
  const cd = list(def?.containerDefinitions).find((d) => d.name === container.name);
  const lc = cd?.logConfiguration;
  if (!lc || lc.logDriver !== "awslogs") return h("p", {}, `${container.name}: no awslogs log configuration.`);
  const group = lc.options?.["awslogs-group"];
  const stream = `${lc.options?.["awslogs-stream-prefix"]}/${container.name}/${taskId}`;
  try {
    const r = await logs("GetLogEvents", { logGroupName: group, logStreamName: stream, limit: 50, startFromHead: false });
    return [h("h2", {}, `Log tail: ${container.name}`), h("pre", { class: "log", tabindex: "0", "aria-label": `Log of ${container.name}` },
      list(r.events).map((e) => `${when(e.timestamp / 1000)}  ${e.message}`).join("\n") || "(no events yet)")];
  } catch (e) {
    return h("p", {}, `${container.name}: ${e.code || ""} ${e.message}`);
  }
}

// ---- ELBv2 -------------------------------------------------------------

async function loadBalancersPage() {
  const lbs = list((await elbv2("DescribeLoadBalancers", {})).LoadBalancers);
  const sections = await Promise.all(lbs.map(async (lb) => {
    const listeners = list((await elbv2("DescribeListeners", { LoadBalancerArn: lb.LoadBalancerArn })).Listeners);
    const rules = await Promise.all(listeners.map(async (l) =>
      list((await elbv2("DescribeRules", { ListenerArn: l.ListenerArn })).Rules).map((r) => [l, r])));
    const actionText = (as) => list(as).map((a) => a.Type === "forward"
      ? `forward to ${groupName(a.TargetGroupArn || list(a.ForwardConfig?.TargetGroups)[0]?.TargetGroupArn)}`
      : a.Type).join(", ");
    const http = listeners.filter((l) => l.Protocol === "HTTP");
    return h("section", { class: "card", "aria-label": lb.LoadBalancerName },
      h("h2", {}, lb.LoadBalancerName, " ", badge(lb.State?.Code)),
      h("p", {}, "DNS name: ", http.length ? http.map((l) => {
        const href = `http://${lb.DNSName}${l.Port === "80" ? "" : ":" + l.Port}/`;
        return h("a", { href, target: "_blank", rel: "noopener", class: "dns" }, href);
      }) : lb.DNSName),
      h("p", {}, `${lb.Type} · ${lb.Scheme} · ${lb.VpcId}`),
      table(["Listener", "Protocol", "Port", "Default action"], listeners.map((l) => [lastPart(l.ListenerArn),
        l.Protocol, l.Port, actionText(l.DefaultActions)]), "Listeners"),
      table(["Listener port", "Priority", "Conditions", "Actions"], rules.flat().map(([l, r]) => [l.Port, r.Priority,
        list(r.Conditions).map((c) => `${c.Field}: ${list(c.Values).concat(list(c.PathPatternConfig?.Values), list(c.HostHeaderConfig?.Values)).join(", ")}`).join("; ") || "-",
        actionText(r.Actions)]), "Rules"));
  }));
  return { title: "Load balancers", body: [h("h1", {}, "Load balancers"), lbs.length ? sections : h("p", {}, "None")] };
}

async function targetGroupsPage(name) {
  const groups = list((await elbv2("DescribeTargetGroups", {})).TargetGroups);
  const shown = name ? groups.filter((g) => g.TargetGroupName === name) : groups;
  const sections = await Promise.all(shown.map(async (g) => {
    const health = await targetHealth(g.TargetGroupArn);
    return h("section", { class: "card", "aria-label": g.TargetGroupName },
      h("h2", {}, g.TargetGroupName),
      h("p", {}, `${g.Protocol}:${g.Port} · ${g.TargetType} targets · health check ${g.HealthCheckProtocol} ${g.HealthCheckPath || ""} every ${g.HealthCheckIntervalSeconds}s`),
      healthTable(g.TargetGroupArn, health, true),
      h("form", { class: "inline", onsubmit: (ev) => {
        ev.preventDefault();
        const f = new FormData(ev.target);
        const target = { Id: String(f.get("id")).trim() };
        if (String(f.get("port")).trim()) target.Port = String(f.get("port")).trim();
        ev.target.reset();
        document.activeElement?.blur();
        act(`Registered ${target.Id} in ${g.TargetGroupName}`, () => elbv2("RegisterTargets",
          { TargetGroupArn: g.TargetGroupArn, Targets: [target] }));
      } },
      h("label", { for: `reg-id-${g.TargetGroupName}` }, "Register target"),
      h("input", { id: `reg-id-${g.TargetGroupName}`, name: "id", placeholder: "i-... or IP", required: true }),
      h("label", { for: `reg-port-${g.TargetGroupName}`, class: "sr-only" }, "Port"),
      h("input", { id: `reg-port-${g.TargetGroupName}`, name: "port", placeholder: "port", class: "short", inputmode: "numeric" }),
      h("button", { type: "submit" }, "Register")));
  }));
  return { title: "Target groups", body: [h("h1", {}, "Target groups"), shown.length ? sections : h("p", {}, "None")] };
}

// ---- ECR, EC2 ----------------------------------------------------------

async function repositoriesPage(name) {
  const repos = list((await ecr("DescribeRepositories", {})).repositories);
  const body = [h("h1", {}, "ECR repositories"), table(["Repository", "URI", "Created"], repos.map((r) =>
    [link(`#/repositories/${enc(r.repositoryName)}`, r.repositoryName), r.repositoryUri, when(r.createdAt)]),
  "Repositories")];
  if (name) {
    const images = list((await ecr("DescribeImages", { repositoryName: name })).imageDetails);
    body.push(h("h2", {}, `Images in ${name}`), table(["Tags", "Digest", "Size", "Pushed at"], images.map((i) =>
      [list(i.imageTags).join(", ") || "(untagged)", h("code", {}, i.imageDigest),
        `${((i.imageSizeInBytes || 0) / 1048576).toFixed(1)} MiB`, when(i.imagePushedAt)]), "Images"));
  }
  return { title: "ECR", body };
}

const ruleSource = (p) => [...list(p.ipRanges).map((r) => r.cidrIp), ...list(p.ipv6Ranges).map((r) => r.cidrIpv6),
  ...list(p.groups).map((g) => g.groupId)].join(", ") || "-";
const portRange = (p) => (p.ipProtocol === "-1" ? "all" : p.fromPort === p.toPort ? p.fromPort : `${p.fromPort}-${p.toPort}`);

async function securityGroupsPage() {
  const groups = list((await ec2("DescribeSecurityGroups", {})).securityGroupInfo);
  return { title: "Security groups", body: [h("h1", {}, "Security groups"), groups.map((g) =>
    h("section", { class: "card", "aria-label": g.groupName },
      h("h2", {}, `${g.groupName} (${g.groupId})`), h("p", {}, `${g.groupDescription} · ${g.vpcId}`),
      table(["Direction", "Protocol", "Ports", "Source / destination"], [
        ...list(g.ipPermissions).map((p) => ["inbound", p.ipProtocol === "-1" ? "all" : p.ipProtocol, portRange(p), ruleSource(p)]),
        ...list(g.ipPermissionsEgress).map((p) => ["outbound", p.ipProtocol === "-1" ? "all" : p.ipProtocol, portRange(p), ruleSource(p)])],
      `Rules of ${g.groupName}`)))] };
}

async function keyPairsPage() {
  const keys = list((await ec2("DescribeKeyPairs", {})).keySet);
  return { title: "Key pairs", body: [h("h1", {}, "Key pairs"), table(["Name", "ID", "Type", "Fingerprint", "Created"],
    keys.map((k) => [k.keyName, k.keyPairId, k.keyType, h("code", {}, k.keyFingerprint), when(k.createTime)]), "Key pairs")] };
}

async function instancesPage() {
  const reservations = list((await ec2("DescribeInstances", {})).reservationSet);
  const instances = reservations.flatMap((r) => list(r.instancesSet));
  const name = (i) => list(i.tagSet).find((t) => t.key === "Name")?.value || "-";
  return { title: "Instances", body: [h("h1", {}, "Instances"), table(["Instance", "Name", "State", "Type",
    "Private IP", "Key", "Launched"], instances.map((i) => [i.instanceId, name(i), badge(i.instanceState?.name),
    i.instanceType, i.privateIpAddress || "-", i.keyName || "-", when(i.launchTime)]), "Instances")] };
}

// ---- start -------------------------------------------------------------

async function start() {
  if (!globalThis.crypto?.subtle) {
    // WebCrypto exists only in a secure context: https, or http on a loopback address.
    app().replaceChildren(h("main", { id: "main" }, h("h1", {}, "berth console"), h("p", { class: "notice error", role: "alert" },
      "This page cannot sign API calls here: browsers offer WebCrypto only on https or on a loopback address " +
      "(http://127.x.y.z). Open the console at the daemon's loopback address.")));
    return;
  }
  const m = location.hash.match(/^#token=([0-9a-f]+)$/);
  if (m) {
    history.replaceState(null, "", location.pathname + "#/clusters");  // the token leaves the address bar
    try {
      const c = await redeemSignInToken(m[1]);
      saveCredentials({ accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, region: "us-east-1", arn: c.UserArn });
    } catch (e) {
      forgetCredentials();
      showSignIn(`${e.code || "Error"}: ${e.message}`);
      return;
    }
  }
  if (!loadCredentials()) {
    clearTimeout(timer);
    generation++;
    rendered = "";
    showSignIn();
    return;
  }
  kick();
}

window.addEventListener("hashchange", () => {
  if (/^#token=/.test(location.hash)) { start(); return; }
  if (location.hash === "#main-content") return;
  notice = null;
  rendered = "";
  if (loadCredentials()) kick();
});
start();
