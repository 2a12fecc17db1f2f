// AWS Signature Version 4 in the browser (WebCrypto), as the aws CLI signs:
// the console is one more API client, so IAM decides exactly as for the CLI.
const enc = new TextEncoder();

function hex(buf) {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function sha256Hex(text) {
  return hex(await crypto.subtle.digest("SHA-256", enc.encode(text)));
}

async function hmac(key, text) {
  const k = await crypto.subtle.importKey("raw", typeof key === "string" ? enc.encode(key) : key,
    { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return crypto.subtle.sign("HMAC", k, enc.encode(text));
}

// "20261205T024500Z"
export function amzDate(now = new Date()) {
  return now.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

// Signs a POST to "/" of this origin. `headers` are lower-case names; the
// answer is the headers to send (host is the browser's own, signed as such).
export async function signPost({ service, region, body, headers, credentials, host, now }) {
  const date = amzDate(now);
  const day = date.slice(0, 8);
  const all = { ...headers, host, "x-amz-date": date };
  const names = Object.keys(all).map((n) => n.toLowerCase()).sort();
  const canonicalHeaders = names.map((n) => `${n}:${String(all[n]).trim().replace(/\s+/g, " ")}\n`).join("");
  const signed = names.join(";");
  const canonical = ["POST", "/", "", canonicalHeaders, signed, await sha256Hex(body)].join("\n");
  const scope = `${day}/${region}/${service}/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", date, scope, await sha256Hex(canonical)].join("\n");
  let key = await hmac("AWS4" + credentials.secretAccessKey, day);
  key = await hmac(key, region);
  key = await hmac(key, service);
  key = await hmac(key, "aws4_request");
  const signature = hex(await hmac(key, toSign));
  const out = { ...headers, "x-amz-date": date };
  out.authorization = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, ` +
    `SignedHeaders=${signed}, Signature=${signature}`;
  return out;
}
