// The console as a user meets it, in Debian's chromium driven by npm's
// playwright-core (never a downloaded browser). Run by
// console_browser_test.py, which builds the stack and passes, in the
// environment: CONSOLE_URL, ADMIN_KEY/SECRET, READER_KEY/SECRET,
// SIGN_IN_LINK (from `berth console-url`), DAEMON_ADDRESS, DNS_NAME,
// CLUSTER, SERVICE, ARTIFACTS (screenshots), CHROMIUM, CONSOLE_DIR.
// Every wait is bounded; the first thing not seen fails the run.
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";

const env = process.env;
const require = createRequire(join(env.CONSOLE_DIR, "package.json"));
const { chromium } = require("playwright-core");

const started = Date.now();
const log = (text) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)}s] ${text}`);

// Polls `probe` (async, returns a truthy value when done) every 200 ms for at most `seconds`.
async function until(what, seconds, probe) {
  const deadline = Date.now() + seconds * 1000;
  let last;
  for (let i = 0; ; i++) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline || i > seconds * 10) {
      throw new Error(`gave up after ${seconds} s waiting for ${what}${last ? `: ${last.message}` : ""}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

const browser = await chromium.launch({
  executablePath: env.CHROMIUM,
  headless: true,
  // The ALB's DNS name (*.elb.localhost) goes to the daemon's private address, as nss-myhostname and
  // the harness's Host header do for other clients.
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    `--host-resolver-rules=MAP *.elb.localhost ${env.DAEMON_ADDRESS}`],
  timeout: 30000,
});

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(15000);
  const page = await context.newPage();
  page.on("pageerror", (e) => log(`page error: ${e.message}`));
  return page;
}

// Screenshots at 1280 and 390 px; at 390 the page must not scroll sideways (tables scroll in their box).
async function shoot(page, name) {
  await page.screenshot({ path: join(env.ARTIFACTS, `${name}-1280.png`), fullPage: true });
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await page.screenshot({ path: join(env.ARTIFACTS, `${name}-390.png`), fullPage: true });
  await page.setViewportSize({ width: 1280, height: 900 });
  if (overflow > 1) throw new Error(`${name} at 390 px is ${overflow} px wider than the screen`);
}

async function signIn(page, key, secret) {
  await page.goto(env.CONSOLE_URL);
  await page.getByLabel("Access key ID").fill(key);
  await page.getByLabel("Secret access key").fill(secret);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "Clusters" }).waitFor();
}

const serviceUrl = (tab) => `${env.CONSOLE_URL}#/clusters/${env.CLUSTER}/services/${env.SERVICE}/${tab}`;
const rows = (page) => page.locator("main table tbody tr");
const count = (page, re) => rows(page).filter({ hasText: re }).count();

async function tryStep(name, fn) {
  log(name);
  await fn();
}

let failed = false;
try {
  // ---- a visitor without credentials: the sign-in form, nothing else ----
  const visitor = await newPage();
  await tryStep("a visitor gets only the sign-in form", async () => {
    await visitor.goto(env.CONSOLE_URL);
    await visitor.getByRole("button", { name: "Sign in" }).waitFor();
    if (await visitor.getByRole("navigation").count()) throw new Error("navigation shown before sign-in");
    if (await visitor.locator("table").count()) throw new Error("data shown before sign-in");
    const answers = await visitor.evaluate(async () => {
      const ecs = await fetch("/", { method: "POST", body: "{}", headers: { "content-type": "application/x-amz-json-1.1",
        "x-amz-target": "AmazonEC2ContainerServiceV20141113.ListClusters" } });
      const elb = await fetch("/", { method: "POST", body: "Action=DescribeLoadBalancers&Version=2015-12-01",
        headers: { "content-type": "application/x-www-form-urlencoded" } });
      return [ecs.status, (await ecs.json()).__type, elb.status, await elb.text()];
    });
    if (answers[0] !== 400 || answers[1] !== "MissingAuthenticationTokenException" || answers[2] !== 403 ||
        !answers[3].includes("<Code>MissingAuthenticationToken</Code>")) {
      throw new Error(`unsigned data calls answered ${JSON.stringify(answers)}`);
    }
    // Keyboard: the first Tab lands in the form.
    await visitor.keyboard.press("Tab");
    const focused = await visitor.evaluate(() => document.activeElement?.id);
    if (focused !== "key") throw new Error(`Tab focused #${focused}, not the access key field`);
    // A wrong key: STS's own refusal, and still only the form.
    await visitor.getByLabel("Access key ID").fill("AKIAEXAMPLEEXAMPLE00");
    await visitor.getByLabel("Secret access key").fill("not-the-secret");
    await visitor.getByRole("button", { name: "Sign in" }).click();
    await visitor.getByRole("alert").filter({ hasText: "InvalidClientTokenId: The security token included in the request is invalid" }).waitFor();
    if (await visitor.evaluate(() => sessionStorage.length)) throw new Error("a refused key was kept");
    await shoot(visitor, "sign-in");
    await visitor.context().close();
  });

  // ---- the administrator ----
  const page = await newPage();
  await tryStep("sign in with an access key", async () => {
    await signIn(page, env.ADMIN_KEY, env.ADMIN_SECRET);
    await page.getByRole("link", { name: env.CLUSTER }).waitFor();
    const stored = await page.evaluate(() => [sessionStorage.length, localStorage.length, document.cookie]);
    if (stored[0] !== 1 || stored[1] !== 0 || stored[2] !== "") {
      throw new Error(`credentials kept beyond sessionStorage: ${JSON.stringify(stored)}`);
    }
    await shoot(page, "clusters");
  });

  await tryStep("the service shows 3 running tasks", async () => {
    await page.getByRole("link", { name: env.CLUSTER }).click();
    await page.getByRole("heading", { name: `Cluster ${env.CLUSTER}` }).waitFor();
    await until("2 container instances with CPU and memory bars", 20, async () =>
      (await page.locator("meter").count()) === 4);
    await shoot(page, "cluster");
    await page.getByRole("link", { name: env.SERVICE }).click();
    await until("3 RUNNING tasks in the Tasks tab", 120, async () =>
      (await count(page, /RUNNING/)) === 3 && (await page.locator("#running-count").textContent()) === "3");
    await shoot(page, "service-tasks");
  });

  await tryStep("target health turns healthy", async () => {
    await page.getByRole("link", { name: "Target health" }).click();
    await until("3 healthy targets", 90, async () => (await count(page, /(?<!un)healthy/)) === 3 &&
      (await count(page, /unhealthy|initial/)) === 0);
    await shoot(page, "service-health");
  });

  await tryStep("the keyboard reaches a Stop button; Escape cancels its confirmation", async () => {
    await page.goto(serviceUrl("tasks"));
    await until("3 tasks listed", 20, async () => (await count(page, /RUNNING/)) === 3);
    const stop = page.getByRole("button", { name: "Stop", exact: true }).first();
    await stop.focus();
    await page.keyboard.press("Enter");
    await page.getByRole("dialog").waitFor();
    const focused = await page.evaluate(() => document.activeElement?.textContent);
    if (focused !== "Cancel") throw new Error(`the confirmation opened with "${focused}" focused, not Cancel`);
    await page.keyboard.press("Escape");
    await page.getByRole("dialog").waitFor({ state: "detached" });
    await until("still 3 running (Escape stopped nothing)", 3, async () => (await count(page, /RUNNING/)) === 3);
  });

  let victim;
  await tryStep("stop a task and watch the Events tab show the replacement", async () => {
    await page.goto(serviceUrl("events"));
    await page.getByRole("heading", { name: `Service ${env.SERVICE}` }).waitFor();
    const startedBefore = await count(page, /has started 1 tasks/);
    await page.goto(serviceUrl("tasks"));
    await until("3 tasks listed", 20, async () => (await count(page, /RUNNING/)) === 3);
    const row = rows(page).filter({ hasText: /RUNNING/ }).first();
    victim = (await row.locator("a").first().textContent()).trim();
    await row.getByRole("button", { name: "Stop" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Stop task" }).click();
    await page.getByRole("status").filter({ hasText: `Stop requested for task ${victim}` }).waitFor();
    await page.getByRole("link", { name: "Events" }).click();
    const first = async () => (await rows(page).first().textContent()) || "";
    await until("a newer 'has started 1 tasks' event for the replacement", 60, async () =>
      (await count(page, /has started 1 tasks/)) > startedBefore);
    // Newest first, as AWS lists them: the replacement's start precedes (sits above) older events.
    const texts = await rows(page).allTextContents();
    const newest = texts.findIndex((t) => /has started 1 tasks/.test(t));
    const oldest = texts.findIndex((t) => /has started 3 tasks/.test(t));
    if (newest < 0 || oldest < 0 || newest > oldest) throw new Error(`events not newest first: ${texts.slice(0, 8).join(" | ")}`);
    log(`  newest event: ${(await first()).slice(0, 120)}`);
    await shoot(page, "service-events");
    await page.goto(serviceUrl("tasks"));
    await until("3 RUNNING tasks again, the stopped one gone", 60, async () =>
      (await count(page, /RUNNING/)) === 3 && !(await rows(page).filter({ hasText: victim }).filter({ hasText: /RUNNING/ }).count()));
  });

  await tryStep("scale to 4 and back to 3", async () => {
    for (const n of [4, 3]) {
      await page.getByLabel("Desired tasks").fill(String(n));
      await page.getByRole("button", { name: "Update" }).click();
      await page.getByRole("status").filter({ hasText: `Desired count of ${env.SERVICE} set to ${n}` }).waitFor();
      await until(`${n} running`, 90, async () => (await page.locator("#desired-count").textContent()) === String(n) &&
        (await page.locator("#running-count").textContent()) === String(n) && (await count(page, /RUNNING/)) === n);
    }
  });

  await tryStep("a change made with the aws CLI shows without a reload", async () => {
    const cli = (n) => execFileSync(env.AWS_CLI, ["ecs", "update-service", "--cluster", env.CLUSTER, "--service",
      env.SERVICE, "--desired-count", String(n), "--endpoint-url", env.AWS_ENDPOINT_URL, "--output", "json"],
    { timeout: 60000, stdio: ["ignore", "ignore", "pipe"] });
    for (const n of [2, 3]) {
      cli(n);
      const changed = Date.now();
      // The page re-reads every second: 3 s leaves room for a loaded machine.
      await until(`desired ${n} on the page`, 3, async () => (await page.locator("#desired-count").textContent()) === String(n));
      log(`  desired ${n} shown ${Date.now() - changed} ms after the CLI returned`);
    }
    await until("3 running again", 60, async () => (await page.locator("#running-count").textContent()) === "3" &&
      (await count(page, /RUNNING/)) === 3);
  });

  await tryStep("force a new deployment and watch it roll out", async () => {
    await page.goto(serviceUrl("deployments"));
    await until("one deployment", 20, async () => (await rows(page).count()) === 1);
    const before = (await rows(page).first().locator("td").first().textContent()).trim();
    await page.getByRole("button", { name: "Force new deployment" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Force new deployment" }).click();
    await page.getByRole("status").filter({ hasText: `New deployment of ${env.SERVICE} started` }).waitFor();
    await until("a second deployment, the new PRIMARY", 20, async () =>
      (await rows(page).count()) === 2 || (await count(page, /PRIMARY/)) === 1 &&
        !(await rows(page).filter({ hasText: before }).count()));
    await until("the new deployment COMPLETED and the old one gone", 120, async () =>
      (await rows(page).count()) === 1 && (await count(page, /PRIMARY.*COMPLETED/s)) === 1 &&
      !(await rows(page).filter({ hasText: before }).count()));
  });

  await tryStep("target health is healthy again after the changes", async () => {
    await page.getByRole("link", { name: "Target health" }).click();
    await until("3 healthy targets and no other", 90, async () => (await count(page, /(?<!un)healthy/)) === 3 &&
      (await rows(page).count()) === 3);
  });

  await tryStep("deployments and metrics tabs, a task's page", async () => {
    await page.getByRole("link", { name: "Deployments" }).click();
    await until("the PRIMARY deployment COMPLETED", 60, async () => (await count(page, /PRIMARY.*COMPLETED/s)) === 1);
    await page.getByRole("link", { name: "Tasks", exact: true }).click();
    await until("tasks listed", 20, async () => (await count(page, /RUNNING/)) === 3);
    await rows(page).filter({ hasText: /RUNNING/ }).first().locator("a").first().click();
    await page.getByRole("heading", { name: /^Task / }).waitFor();
    await until("the container's network binding", 20, async () => (await count(page, /→ 8080\/tcp/)) === 1);
    await until("the container's log tail (outyet's poll warnings)", 30, async () =>
      /outyet/.test(await page.locator("pre.log").textContent()));
    await shoot(page, "task");
  });

  await tryStep("load balancers: follow the DNS link to the outyet page", async () => {
    await page.getByRole("link", { name: "Load balancers" }).click();
    const link = page.locator("a.dns").first();
    await link.waitFor();
    const href = await link.getAttribute("href");
    if (href !== `http://${env.DNS_NAME}/`) throw new Error(`the DNS link is ${href}`);
    await shoot(page, "load-balancers");
    const [outyet] = await Promise.all([page.context().waitForEvent("page"), link.click()]);
    await outyet.waitForLoadState();
    await until("the outyet page through the ALB", 20, async () =>
      /Is Go 1\.4 out yet\?/.test(await outyet.content()) || (await outyet.reload(), false));
    await shoot(outyet, "outyet");
    await outyet.close();
  });

  await tryStep("the service's Metrics tab charts the requests just made", async () => {
    await page.goto(serviceUrl("metrics"));
    // The publisher writes AWS/ApplicationELB every 10 s; the chart reads it back with GetMetricData.
    await until("RequestCount points in the chart", 40, async () =>
      /Requests \(sum per minute\): \d+ points?, latest \S+, highest [1-9]/.test(await page.locator("figure.chart").first().textContent()));
    await shoot(page, "service-metrics");
  });

  await tryStep("the other pages", async () => {
    const pages = [["Target groups", "target-groups", /healthy/], ["ECR", "ecr", /outyet-image/],
      ["Security groups", "security-groups", /outyet-alb-sg/], ["Key pairs", "key-pairs", /outyet/],
      ["Instances", "instances", /outyet-ecs/]];
    for (const [nav, name, text] of pages) {
      await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: nav }).click();
      await until(`${nav} showing ${text}`, 20, async () => text.test(await page.locator("main").textContent()));
      if (name === "ecr") {
        await page.getByRole("link", { name: "outyet-image" }).click();
        await until("the image's latest tag and digest", 20, async () => (await count(page, /latest.*sha256:/s)) === 1);
      }
      if (name === "key-pairs" && /PRIVATE KEY/.test(await page.content())) throw new Error("private key material shown");
      await shoot(page, name);
    }
  });

  await tryStep("deregister a target, then register it again", async () => {
    await page.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: "Target groups" }).click();
    await until("3 healthy targets", 30, async () => (await count(page, /(?<!un)healthy/)) === 3);
    const row = rows(page).filter({ hasText: /(?<!un)healthy/ }).first();
    const [id, port] = [(await row.locator("td").nth(0).textContent()).trim(), (await row.locator("td").nth(1).textContent()).trim()];
    const cell = (text) => ({ has: page.locator("td").filter({ hasText: new RegExp(`^${text}$`) }) });
    const target = () => rows(page).filter(cell(id)).filter(cell(port));
    if ((await target().count()) !== 1) throw new Error(`no single row for ${id}:${port}`);
    await target().getByRole("button", { name: "Deregister" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Deregister" }).click();
    await page.getByRole("status").filter({ hasText: `Deregistered ${id}:${port}` }).waitFor();
    await until(`${id}:${port} draining or gone`, 20, async () =>
      (await target().count()) === 0 || /draining/.test(await target().first().textContent()));
    await until(`${id}:${port} gone after the 5 s deregistration delay`, 30, async () => (await target().count()) === 0);
    await page.getByLabel("Register target").fill(id);
    await page.getByLabel("Port").fill(port);
    await page.getByRole("button", { name: "Register", exact: true }).click();
    await page.getByRole("status").filter({ hasText: `Registered ${id}` }).waitFor();
    await until(`${id}:${port} healthy again`, 30, async () => (await target().count()) === 1 &&
      /^healthy$/.test((await target().locator("td").nth(2).textContent()).trim()));
  });

  await tryStep("sign out forgets the key", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    if (await page.evaluate(() => sessionStorage.length)) throw new Error("the key outlived the sign-out");
    await signIn(page, env.ADMIN_KEY, env.ADMIN_SECRET);
    await page.getByRole("link", { name: env.CLUSTER }).waitFor();
  });

  // ---- a read-only user sees but may not change ----
  await tryStep("a read-only user's Stop is refused with IAM's message", async () => {
    const reader = await newPage();
    await signIn(reader, env.READER_KEY, env.READER_SECRET);
    await reader.goto(serviceUrl("tasks"));
    await until("3 tasks visible to the reader", 30, async () => (await count(reader, /RUNNING/)) === 3);
    await rows(reader).filter({ hasText: /RUNNING/ }).first().getByRole("button", { name: "Stop" }).click();
    await reader.getByRole("dialog").getByRole("button", { name: "Stop task" }).click();
    const alert = reader.getByRole("alert").filter({ hasText: "AccessDeniedException" });
    await alert.waitFor();
    const text = await alert.textContent();
    if (!/User: arn:aws:iam::\d{12}:user\/reader is not authorized to perform: ecs:StopTask/.test(text)) {
      throw new Error(`the refusal reads: ${text}`);
    }
    await until("still 3 running", 5, async () => (await count(reader, /RUNNING/)) === 3);
    await reader.context().close();
  });

  // ---- berth console-url: once, then refused ----
  await tryStep("the console-url link signs in once", async () => {
    const first = await newPage();
    await first.goto(env.SIGN_IN_LINK);
    await first.getByRole("link", { name: env.CLUSTER }).waitFor();
    if (first.url().includes("token=")) throw new Error(`the token stayed in the address bar: ${first.url()}`);
    await first.context().close();
    const second = await newPage();
    await second.goto(env.SIGN_IN_LINK);
    await second.getByRole("alert").filter({ hasText: "InvalidSignInToken" }).waitFor();
    await second.getByRole("button", { name: "Sign in" }).waitFor();
    await second.context().close();
  });
  log("all steps passed");
} catch (e) {
  failed = true;
  console.log(`FAILED: ${e.stack || e}`);
  for (const ctx of browser.contexts()) {
    for (const p of ctx.pages()) {
      await p.screenshot({ path: join(env.ARTIFACTS, `failure-${ctx.pages().indexOf(p)}.png`), fullPage: true })
        .catch(() => {});
      console.log(`page ${p.url()}:\n${(await p.locator("body").innerText().catch(() => "")).slice(0, 3000)}`);
    }
  }
} finally {
  await browser.close();
}
process.exit(failed ? 1 : 0);
