// A Roster of the test's own: the debug binary on a fresh database, on port 0, like the
// Rust API tests. On PostgreSQL it gets a new database (made by the superuser, used as
// the password-checked app role) and a fresh Valkey database; on SQLite a temporary
// file and the in-process index.
import { spawn, execFileSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";

export const ROOT = resolve(import.meta.dirname, "..", "..");
const BINARY = process.env.ROSTER_BINARY ?? join(ROOT, "target", "debug", "roster");

// Each backend's store and index; in CI both must be there (a missing server fails).
export function backends() {
  const wanted = (process.env.ROSTER_BROWSER_BACKENDS ?? "sqlite,postgres").split(",");
  for (const name of wanted) {
    if (name === "postgres") {
      for (const variable of ["ROSTER_TEST_DATABASE_URL", "ROSTER_TEST_APP_DATABASE_URL", "ROSTER_TEST_VALKEY_URL"]) {
        if (!process.env[variable]) {
          throw new Error(`${variable} is not set: run through scripts/test, or eval "$(scripts/services env)"`);
        }
      }
    } else if (name !== "sqlite") {
      throw new Error(`unknown backend ${name} in ROSTER_BROWSER_BACKENDS`);
    }
  }
  return wanted;
}

function psql(url, sql) {
  execFileSync("psql", ["-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", sql], { stdio: "pipe" });
}

// Commands to Valkey over one connection, in its wire protocol (a SELECT holds for the
// commands after it); answers each reply's first line.
function valkey(address, ...commands) {
  const { hostname, port } = new URL(address);
  const encode = (command) =>
    `*${command.length}\r\n` + command.map((word) => `$${Buffer.byteLength(word)}\r\n${word}\r\n`).join("");
  return new Promise((done, failed) => {
    const socket = createConnection({ host: hostname, port: Number(port) }, () =>
      socket.write(commands.map(encode).join("")),
    );
    let reply = "";
    socket.on("data", (chunk) => {
      reply += chunk;
      const answers = reply.split("\r\n").slice(0, -1);
      if (answers.length < commands.length) return;
      socket.end();
      const refused = answers.find((answer) => answer.startsWith("-"));
      refused ? failed(new Error(refused)) : done(answers.map((answer) => answer.slice(1)));
    });
    socket.on("error", failed);
  });
}

// The same counter the Rust tests use, so the two never share a Valkey database.
async function freshValkeyDatabase(upstream) {
  const [next] = await valkey(upstream, ["INCR", "roster-test:next-database"]);
  const database = String(1 + (Number(next) % 9999));
  const flush = () => valkey(upstream, ["SELECT", database], ["FLUSHDB"]);
  await flush();
  return { url: `${upstream}/${database}`, flush };
}

async function storage(backend) {
  if (backend === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "roster-browser-"));
    return {
      env: { DATABASE_URL: `sqlite://${join(dir, "roster.db")}` },
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  const admin = process.env.ROSTER_TEST_DATABASE_URL;
  const appUrl = new URL(process.env.ROSTER_TEST_APP_DATABASE_URL);
  const name = `roster_browser_${randomUUID().replaceAll("-", "")}`;
  psql(admin, `CREATE DATABASE ${name} OWNER ${appUrl.username}`);
  appUrl.pathname = `/${name}`;
  const index = await freshValkeyDatabase(process.env.ROSTER_TEST_VALKEY_URL);
  return {
    env: {
      DATABASE_URL: appUrl.toString(),
      VALKEY_URL: index.url,
      ROSTER_SECRET_KEY: randomBytes(64).toString("hex"),
    },
    remove: async () => {
      await index.flush();
      psql(admin, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}

// Starts Roster and waits for the lines it prints: its address and the setup link.
export async function startRoster(backend) {
  const store = await storage(backend);
  const child = spawn(BINARY, ["serve"], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      ROSTER_BIND: "127.0.0.1:0",
      RUST_LOG: "warn",
      ...store.env,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout });
  let base;
  let setupLink;
  const started = new Promise((done, failed) => {
    const timer = setTimeout(() => failed(new Error("Roster did not start within 60 s")), 60_000);
    child.on("exit", (code) => failed(new Error(`Roster exited with ${code} before it listened`)));
    lines.on("line", (line) => {
      const listening = line.match(/^Roster listening on (http:\/\/\S+)/);
      if (listening) base = listening[1];
      const setup = line.match(/at (http:\/\/\S+\/login\?setup=\S+)/);
      if (setup) setupLink = setup[1];
      // A fresh database has no accounts, so the setup link always follows the address.
      if (base && setupLink) {
        clearTimeout(timer);
        done();
      }
    });
  });
  await started;
  return {
    backend,
    base,
    setupLink,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((done) => (child.exitCode !== null ? done() : child.once("exit", done)));
      await store.remove();
    },
  };
}
