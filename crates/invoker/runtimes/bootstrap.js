// Lamina's Node.js runtime client.
//
// Speaks the Lambda Runtime API (AWS_LAMBDA_RUNTIME_API) and calls the handler named by
// _HANDLER ("file.export") with AWS's (event, context[, callback]) contract. CommonJS and
// ES modules are both loaded. Node's standard library only.
"use strict";

const net = require("net");
const path = require("path");
const fs = require("fs");
const { pathToFileURL } = require("url");
const util = require("util");
const { Writable } = require("stream");

// AWS's `awslambda` global: response streaming. A handler wrapped by `streamifyResponse`
// is called with (event, responseStream, context) and writes its answer to the stream,
// which goes to the Runtime API as it is written (`Lambda-Runtime-Function-Response-Mode:
// streaming`, chunked); `HttpResponseStream.from` puts an HTTP prelude (status, headers)
// before the body, as a function URL in RESPONSE_STREAM mode reads it: its JSON, then
// eight NUL bytes.
const STREAMING = Symbol("streaming");

class ResponseStream extends Writable {
  constructor(requestId) {
    super();
    this.requestId = requestId;
    this.contentType = "application/octet-stream";
    this.post = null;
  }

  // The response's POST, begun with the first write (the content type is set by then).
  begin() {
    if (!this.post) {
      this.post = connection.beginChunked(`/invocation/${this.requestId}/response`, {
        "Content-Type": this.contentType,
        "Lambda-Runtime-Function-Response-Mode": "streaming",
      });
    }
    return this.post;
  }

  _write(chunk, encoding, done) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, encoding);
    this.begin().write(buf).then(() => done(), done);
  }

  setContentType(type) {
    this.contentType = type;
  }
}

globalThis.awslambda = {
  streamifyResponse(handler) {
    handler[STREAMING] = true;
    return handler;
  },
  HttpResponseStream: {
    from(stream, prelude) {
      stream.setContentType("application/vnd.awslambda.http-integration-response");
      stream.write(JSON.stringify(prelude || {}));
      stream.write(Buffer.alloc(8));
      return stream;
    },
  },
};

// Runs a streaming handler to the end of its stream; an error after the first write ends
// the stream with AWS's error trailers, one before it is an ordinary error.
async function runStreaming(handler, event, context, requestId) {
  const stream = new ResponseStream(requestId);
  const finished = new Promise((resolve, reject) => {
    stream.on("finish", resolve);
    stream.on("error", reject);
  });
  try {
    await handler(event, stream, context);
    if (!stream.writableEnded) stream.end();
    await finished;
    await stream.begin().end();
  } catch (err) {
    const doc = errorDoc(err);
    logError(requestId, doc);
    if (stream.post) {
      await stream.post.end({
        "Lambda-Runtime-Function-Error-Type": doc.errorType,
        "Lambda-Runtime-Function-Error-Body": Buffer.from(JSON.stringify(doc)).toString("base64"),
      });
    } else {
      await postError(`/invocation/${requestId}/error`, doc);
    }
  }
}

// The Runtime API's address, read once the function's environment is known.
let HOST;
let PORT;

function findRuntimeApi() {
  const api = process.env.AWS_LAMBDA_RUNTIME_API;
  const i = api.lastIndexOf(":");
  HOST = api.slice(0, i);
  PORT = Number(api.slice(i + 1));
}

// Started ahead of its function (LAMINA_PRESTART=1): Node and this client are loaded; the
// function's environment arrives on stdin, as {"env": ..., "cwd": ...}, when the
// environment is claimed. The variables Node reads as it starts were given at start.
function awaitFunction() {
  const go = JSON.parse(fs.readFileSync(0, "utf8"));
  // Only what differs is changed: touching TZ, even to its own value, makes Node's ICU
  // look for the zone again, reading every file under /usr/share/zoneinfo.
  for (const name of Object.keys(process.env)) {
    if (!Object.prototype.hasOwnProperty.call(go.env, name)) delete process.env[name];
  }
  for (const [name, value] of Object.entries(go.env)) {
    if (process.env[name] !== value) process.env[name] = value;
  }
  process.chdir(go.cwd);
}
const PREFIX = "/2018-06-01/runtime";
const CRLF = Buffer.from("\r\n", "latin1");

// One keep-alive HTTP/1.1 connection over a raw socket, one request at a time: the
// Runtime API needs no more, and Node's http client costs more than the rest of an
// invocation.
class Connection {
  constructor() {
    this.socket = null;
    this.buf = Buffer.alloc(0);
    this.waiting = null;
  }

  open() {
    const socket = net.connect({ host: HOST, port: PORT });
    this.socket = socket;
    socket.setNoDelay(true);
    this.buf = Buffer.alloc(0);
    socket.on("data", (chunk) => {
      if (this.socket !== socket) return;
      this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
      this.parse();
    });
    // Only the connection in use fails the request waiting on it; one the server closed
    // after answering (a refused oversized response) is simply replaced.
    const fail = (err) => {
      if (this.socket !== socket) return;
      this.socket = null;
      const w = this.waiting;
      this.waiting = null;
      if (w) w.reject(err || new Error("runtime API connection closed"));
    };
    socket.on("error", fail);
    socket.on("close", () => fail());
  }

  parse() {
    if (!this.waiting) return;
    const end = this.buf.indexOf("\r\n\r\n");
    if (end < 0) return;
    const lines = this.buf.subarray(0, end).toString("latin1").split("\r\n");
    const status = Number(lines[0].split(" ")[1]);
    const headers = {};
    for (const line of lines.slice(1)) {
      const i = line.indexOf(":");
      headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    let body;
    let rest;
    if ((headers["transfer-encoding"] || "").toLowerCase() === "chunked") {
      const parts = [];
      let at = end + 4;
      for (;;) {
        const lineEnd = this.buf.indexOf("\r\n", at);
        if (lineEnd < 0) return;
        const size = parseInt(this.buf.subarray(at, lineEnd).toString("latin1"), 16);
        if (this.buf.length < lineEnd + 2 + size + 2) return;
        if (size === 0) {
          rest = this.buf.subarray(lineEnd + 4);
          break;
        }
        parts.push(this.buf.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
      }
      body = Buffer.concat(parts);
    } else {
      const len = Number(headers["content-length"] || 0);
      if (this.buf.length < end + 4 + len) return;
      body = Buffer.from(this.buf.subarray(end + 4, end + 4 + len));
      rest = this.buf.subarray(end + 4 + len);
    }
    this.buf = rest;
    const w = this.waiting;
    this.waiting = null;
    if ((headers.connection || "").toLowerCase() === "close") {
      const closing = this.socket;
      this.socket = null;
      closing.end();
    }
    w.resolve({ status, headers, body });
  }

  // A GET (the wait for the next invocation) is sent again, once, on a new connection
  // when the one it went out on was closed under it.
  async request(method, urlPath, body, headers) {
    try {
      return await this.send(method, urlPath, body, headers);
    } catch (err) {
      if (method !== "GET") throw err;
      this.socket = null;
      return this.send(method, urlPath, body, headers);
    }
  }

  // A POST whose body follows piece by piece (`Transfer-Encoding: chunked`): `write`
  // resolves once a piece is handed to the socket, `end` sends the last chunk and any
  // trailers and resolves with the answer.
  beginChunked(urlPath, headers) {
    if (!this.socket || this.socket.destroyed || !this.socket.writable) this.open();
    const socket = this.socket;
    let head = `POST ${PREFIX}${urlPath} HTTP/1.1\r\nHost: ${HOST}:${PORT}\r\nTransfer-Encoding: chunked\r\n`;
    head += "Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n";
    for (const [k, v] of Object.entries(headers || {})) head += `${k}: ${v}\r\n`;
    const answered = new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
    answered.catch(() => {});
    socket.write(head + "\r\n");
    return {
      write: (buf) =>
        new Promise((resolve) => {
          if (!buf.length || socket.destroyed) return resolve();
          socket.write(Buffer.concat([Buffer.from(buf.length.toString(16) + "\r\n", "latin1"), buf, CRLF]), () =>
            resolve(),
          );
        }),
      end: (trailers) => {
        let last = "0\r\n";
        for (const [k, v] of Object.entries(trailers || {})) last += `${k}: ${v}\r\n`;
        if (!socket.destroyed) socket.write(last + "\r\n");
        return answered.catch(() => ({ status: 0, headers: {}, body: Buffer.alloc(0) }));
      },
    };
  }

  send(method, urlPath, body, headers) {
    if (!this.socket || this.socket.destroyed || !this.socket.writable) this.open();
    const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
    let head = `${method} ${PREFIX}${urlPath} HTTP/1.1\r\nHost: ${HOST}:${PORT}\r\nContent-Length: ${payload.length}\r\n`;
    for (const [k, v] of Object.entries(headers || {})) head += `${k}: ${v}\r\n`;
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(payload.length ? Buffer.concat([Buffer.from(head + "\r\n", "latin1"), payload]) : head + "\r\n");
    });
  }
}

const connection = new Connection();

function request(method, urlPath, body, headers) {
  return connection.request(method, urlPath, body, headers);
}

function errorDoc(err) {
  if (err instanceof Error) {
    return {
      errorType: err.name || "Error",
      errorMessage: err.message,
      trace: String(err.stack || "").split("\n"),
    };
  }
  return { errorType: typeof err === "string" ? "string" : typeof err, errorMessage: String(err), trace: [] };
}

function logError(requestId, doc) {
  const line = `${new Date().toISOString()}\t${requestId || "undefined"}\tERROR\t${JSON.stringify(doc)}`;
  process.stdout.write(line.replace(/\n/g, "\r") + "\n");
}

async function postError(urlPath, doc) {
  await request("POST", urlPath, JSON.stringify(doc), {
    "Content-Type": "application/json",
    "Lambda-Runtime-Function-Error-Type": doc.errorType,
  });
}

async function initError(doc) {
  logError(undefined, doc);
  await postError("/init/error", doc);
  process.exit(1);
}

async function loadHandler() {
  const taskRoot = process.env.LAMBDA_TASK_ROOT || "/var/task";
  const spec = process.env._HANDLER || "";
  const dot = spec.lastIndexOf(".");
  if (dot <= 0) {
    return initError({ errorType: "Runtime.MalformedHandlerName", errorMessage: `Bad handler ${spec}`, trace: [] });
  }
  const modulePath = spec.slice(0, dot);
  const exportPath = spec.slice(dot + 1);
  const base = path.resolve(taskRoot, modulePath);
  const candidates = [".js", ".mjs", ".cjs"].map((ext) => base + ext).filter((f) => fs.existsSync(f));
  let mod;
  try {
    if (candidates.length === 0) {
      const e = new Error(`Cannot find module '${modulePath}'`);
      e.name = "Runtime.ImportModuleError";
      throw e;
    }
    const file = candidates[0];
    mod = file.endsWith(".mjs") ? await import(pathToFileURL(file).href) : require(file);
    if (file.endsWith(".js") && mod && mod.__esModule === undefined && Object.keys(mod).length === 0) {
      // A .js file in an ESM package ("type": "module") loads through import().
      try {
        mod = await import(pathToFileURL(file).href);
      } catch (_) {
        /* keep the CommonJS result */
      }
    }
  } catch (err) {
    if (err && err.code === "ERR_REQUIRE_ESM") {
      mod = await import(pathToFileURL(candidates[0]).href);
    } else {
      const doc = errorDoc(err);
      if (doc.errorType !== "Runtime.ImportModuleError" && err instanceof SyntaxError) {
        doc.errorType = "Runtime.UserCodeSyntaxError";
      } else if (doc.errorType !== "Runtime.ImportModuleError") {
        doc.errorType = err && err.code === "MODULE_NOT_FOUND" ? "Runtime.ImportModuleError" : doc.errorType;
      }
      if (doc.errorType === "Runtime.ImportModuleError") doc.errorMessage = `Error: ${doc.errorMessage}`;
      return initError(doc);
    }
  }
  let handler = mod;
  for (const part of exportPath.split(".")) handler = handler == null ? undefined : handler[part];
  if (handler === undefined && mod && mod.default) handler = mod.default[exportPath];
  if (typeof handler !== "function") {
    return initError({
      errorType: "Runtime.HandlerNotFound",
      errorMessage: `${modulePath}.${exportPath} is undefined or not exported`,
      trace: [],
    });
  }
  return handler;
}

function makeContext(headers) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"] || 0);
  const env = process.env;
  const cc = headers["lambda-runtime-client-context"];
  const ci = headers["lambda-runtime-cognito-identity"];
  return {
    awsRequestId: headers["lambda-runtime-aws-request-id"],
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    functionName: env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
    memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: cc ? JSON.parse(cc) : undefined,
    identity: ci ? JSON.parse(ci) : undefined,
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

function runHandler(handler, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const callback = (err, result) => {
      if (settled) return;
      settled = true;
      if (err !== undefined && err !== null) reject(err);
      else resolve(result);
    };
    try {
      const r = handler(event, context, callback);
      if (r && typeof r.then === "function") r.then((v) => callback(null, v), (e) => callback(e === undefined || e === null ? new Error(String(e)) : e));
      else if (handler.length < 3) callback(null, r);
    } catch (e) {
      callback(e);
    }
  });
}

let currentRequestId;

// AWS's Node runtime writes console output as "<time>\t<request id>\t<LEVEL>\t<message>".
function patchConsole() {
  const levels = { log: "INFO", info: "INFO", warn: "WARN", error: "ERROR", debug: "DEBUG", trace: "TRACE" };
  for (const [method, level] of Object.entries(levels)) {
    console[method] = (...args) => {
      const msg = util.format(...args).replace(/\n/g, "\r");
      process.stdout.write(`${new Date().toISOString()}\t${currentRequestId}\t${level}\t${msg}\n`);
    };
  }
}

// Started ahead, the client makes one request to a stand-in for the Runtime API on
// loopback: Node compiles its socket and parsing code on first use, which would otherwise
// cost the first real request about two milliseconds. A failure here changes nothing.
async function warmUp() {
  const standIn = net.createServer((s) => s.on("data", () => s.end("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")));
  try {
    await new Promise((resolve, reject) => {
      standIn.once("error", reject);
      standIn.listen(0, "127.0.0.1", resolve);
    });
    HOST = "127.0.0.1";
    PORT = standIn.address().port;
    const warm = new Connection();
    // Never held up for long: the function's environment is read only after this.
    let timer;
    const late = new Promise((resolve) => {
      timer = setTimeout(resolve, 500);
    });
    await Promise.race([warm.request("GET", "/warm-up", undefined, { "Content-Type": "application/json" }), late]);
    clearTimeout(timer);
    // An answer still awaited is dropped, not failed (a failed GET is sent again).
    warm.waiting = null;
    if (warm.socket) warm.socket.destroy();
  } catch (_) {
    /* the first real request pays instead */
  }
  standIn.close();
}

async function main() {
  if (process.env.LAMINA_PRESTART === "1") {
    await warmUp();
    awaitFunction();
  }
  findRuntimeApi();
  patchConsole();
  const handler = await loadHandler();
  for (;;) {
    const next = await request("GET", "/invocation/next");
    if (next.status !== 200) process.exit(0);
    const requestId = next.headers["lambda-runtime-aws-request-id"];
    currentRequestId = requestId;
    process.env._X_AMZN_TRACE_ID = next.headers["lambda-runtime-trace-id"] || "";
    const context = makeContext(next.headers);
    let body;
    let headers = { "Content-Type": "application/json" };
    try {
      const text = next.body.toString("utf8");
      const event = text.length ? JSON.parse(text) : {};
      if (handler[STREAMING]) {
        await runStreaming(handler, event, context, requestId);
        continue;
      } else {
        const result = await runHandler(handler, event, context);
        body = result === undefined ? "null" : JSON.stringify(result);
      }
    } catch (err) {
      const doc = errorDoc(err);
      logError(requestId, doc);
      await postError(`/invocation/${requestId}/error`, doc);
      continue;
    }
    try {
      await request("POST", `/invocation/${requestId}/response`, body, headers);
    } catch (_) {
      // The Runtime API stops reading an answer over its size limit and records it as too
      // large; the runtime goes on to the next invocation, as AWS's clients do.
    }
  }
}

main().catch((err) => {
  process.stdout.write(`Runtime failure: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
