// The AWS APIs the console calls, each in its own protocol, signed with the
// signed-in user's key against this origin (the daemon's API endpoint):
// ECS, ECR, CloudWatch Logs: JSON 1.1; CloudWatch: JSON 1.0;
// ELBv2, EC2, STS: query protocol with XML answers (DOMParser).
import { signPost } from "./sigv4.js";

const KEY = "berth.console.credentials";

export function loadCredentials() {
  try {
    const c = JSON.parse(sessionStorage.getItem(KEY) || "null");
    return c && c.accessKeyId && c.secretAccessKey ? c : null;
  } catch {
    return null;
  }
}
export function saveCredentials(c) { sessionStorage.setItem(KEY, JSON.stringify(c)); }
export function forgetCredentials() { sessionStorage.removeItem(KEY); }

// An answer the API refused: code and message as AWS wrote them.
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

async function send(service, body, headers) {
  const credentials = loadCredentials();
  if (!credentials) throw new ApiError(0, "NotSignedIn", "Sign in first.");
  const signed = await signPost({ service, region: credentials.region || "us-east-1", body, headers,
    credentials, host: location.host });
  const r = await fetch("/", { method: "POST", headers: signed, body, cache: "no-store" });
  return { status: r.status, text: await r.text() };
}

async function jsonCall(service, contentType, target, input) {
  const { status, text } = await send(service, JSON.stringify(input || {}),
    { "content-type": contentType, "x-amz-target": target });
  let doc = {};
  try { doc = text ? JSON.parse(text) : {}; } catch { /* not JSON: keep the status */ }
  if (status !== 200) {
    const type = String(doc.__type || "").split("#").pop();
    throw new ApiError(status, type, doc.message || doc.Message || text);
  }
  return doc;
}

// Query protocol: an XML answer as plain objects. Lists (children all named
// "member" or "item") become arrays; leaves become strings.
export function xmlToJs(el) {
  const kids = Array.from(el.children);
  if (kids.length === 0) return el.textContent;
  if (kids.every((k) => k.localName === "member" || k.localName === "item")) return kids.map(xmlToJs);
  const o = {};
  for (const k of kids) o[k.localName] = xmlToJs(k);
  return o;
}

// Flattens {Names: ["a"], Attributes: [{Key, Value}]} into Names.member.1=a, ...
function flatten(prefix, value, out, listStyle) {
  if (Array.isArray(value)) {
    value.forEach((v, i) => flatten(listStyle === "ec2" ? `${prefix}.${i + 1}` : `${prefix}.member.${i + 1}`, v,
      out, listStyle));
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) flatten(`${prefix}.${k}`, v, out, listStyle);
  } else if (value !== undefined) {
    out.append(prefix, String(value));
  }
}

async function queryCall(service, version, action, params, listStyle) {
  const form = new URLSearchParams();
  form.append("Action", action);
  form.append("Version", version);
  for (const [k, v] of Object.entries(params || {})) flatten(k, v, form, listStyle);
  const { status, text } = await send(service, form.toString(),
    { "content-type": "application/x-www-form-urlencoded; charset=utf-8" });
  const doc = new DOMParser().parseFromString(text, "application/xml");
  const root = doc.documentElement;
  if (status !== 200 || root.localName === "ErrorResponse" || root.localName === "Response") {
    const code = doc.getElementsByTagName("Code")[0]?.textContent;
    const message = doc.getElementsByTagName("Message")[0]?.textContent;
    throw new ApiError(status, code, message || text);
  }
  const result = Array.from(root.children).find((c) => c.localName === `${action}Result`);
  return xmlToJs(result || root);
}

export const list = (v) => (Array.isArray(v) ? v : []);

export const ecs = (op, input) => jsonCall("ecs", "application/x-amz-json-1.1",
  `AmazonEC2ContainerServiceV20141113.${op}`, input);
export const ecr = (op, input) => jsonCall("ecr", "application/x-amz-json-1.1",
  `AmazonEC2ContainerRegistry_V20150921.${op}`, input);
export const logs = (op, input) => jsonCall("logs", "application/x-amz-json-1.1", `Logs_20140328.${op}`, input);
export const cloudwatch = (op, input) => jsonCall("monitoring", "application/x-amz-json-1.0",
  `GraniteServiceVersion20100801.${op}`, input);
export const elbv2 = (action, params) => queryCall("elasticloadbalancing", "2015-12-01", action, params, "query");
export const ec2 = (action, params) => queryCall("ec2", "2016-11-15", action, params, "ec2");
export const sts = (action, params) => queryCall("sts", "2011-06-15", action, params, "query");
export const berth = (op, input) => jsonCall("berth", "application/x-amz-json-1.1", `BerthConsole.${op}`, input);

// A `berth console-url` link's token, exchanged once for the key it stands for.
export async function redeemSignInToken(token) {
  const r = await fetch("sign-in", { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ token }), cache: "no-store" });
  const doc = await r.json().catch(() => ({}));
  if (r.status !== 200) throw new ApiError(r.status, doc.__type, doc.message);
  return doc;
}
