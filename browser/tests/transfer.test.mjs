// Bulk work: a bad file refused whole, a good one imported, then the list searched,
// filtered, sorted and paged, and everything exported again.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { checker, onEachBackend, setUpAdmin } from "../support/flows.mjs";
import { submit } from "../support/pages.mjs";

const HEADER = "employee_id,first_name,last_name,email,hire_date,status";
const STATUSES = ["active", "on_leave", "terminated"];
const rows = Array.from({ length: 60 }, (_, n) => {
  const number = String(n + 1).padStart(3, "0");
  return `T-${number},Tess${number},Zed${number},tess${number}@example.com,2024-01-${String((n % 28) + 1).padStart(2, "0")},${STATUSES[n % 3]}`;
});

function csv(name, lines) {
  const path = join(tmpdir(), `roster-browser-${process.pid}-${name}.csv`);
  writeFileSync(path, [HEADER, ...lines].join("\n") + "\n");
  return path;
}

async function upload(tab, app, path) {
  await tab.goto(`${app.base}/employees/import`);
  await tab.getByLabel("CSV file").setInputFiles(path);
  return submit(tab, () => tab.getByRole("button", { name: "Import" }).click());
}

onEachBackend("transfer", (context) => {
  const check = checker(context);

  test("a file with one bad row imports nothing and names the line", async () => {
    const { tab, app } = context;
    await setUpAdmin(tab, app);
    await tab.goto(`${app.base}/employees/import`);
    await check("import-form");
    const bad = [...rows.slice(0, 3), "T-BAD,,Nobody,not-an-address,2024-02-30,active"];
    assert.equal(await upload(tab, app, csv("bad", bad)), 200);
    const report = tab.getByRole("alert");
    assert.match(await report.innerText(), /nothing/i);
    const line = tab.getByRole("row").filter({ hasText: "T-BAD" });
    assert.match(await line.innerText(), /^5\b/);
    assert.match(await line.innerText(), /February 2024 has 29 days/);
    await check("import-refused");
    await tab.goto(`${app.base}/employees`);
    await tab.getByText("No employees yet.").waitFor();
  });

  test("a good file imports every row", async () => {
    const { tab, app } = context;
    assert.equal(await upload(tab, app, csv("good", rows)), 200);
    assert.match(await tab.getByRole("status").last().innerText(), /60/);
    await check("import-done");
  });

  test("the list is searched, filtered, sorted and paged", async () => {
    const { tab, app } = context;
    await tab.goto(`${app.base}/employees`);
    // A third of the file are leavers: the default list leaves them out.
    await tab.getByText("40 employees").waitFor();
    await check("list");
    await tab.getByLabel("Status").selectOption("all");
    await tab.getByRole("button", { name: "Show" }).click();
    await tab.getByText("60 employees found").waitFor();
    assert.equal(await tab.locator("table.records tbody .badge-left").count(), 17, "leavers are marked in words: T-012, T-015 … T-060");
    await tab.getByRole("navigation", { name: "Pages" }).getByRole("link", { name: /Next/ }).click();
    await tab.getByText("Page 2 of 2").waitFor();
    assert.equal(await tab.locator("table.records tbody tr").count(), 10);
    await check("list-page-2");

    await tab.getByLabel("Search").fill("zed007");
    await tab.getByRole("button", { name: "Show" }).click();
    await tab.getByText("1 employee found").waitFor();
    await tab.getByRole("link", { name: "T-007" }).waitFor();
    await check("list-search");

    await tab.getByRole("link", { name: "Clear" }).click();
    await tab.getByText("40 employees").waitFor();
    await tab.getByLabel("Status").selectOption("on_leave");
    await tab.getByRole("button", { name: "Show" }).click();
    await tab.getByText("20 employees found").waitFor();
    const statuses = await tab.locator("table.records tbody td[data-label='Status']").allInnerTexts();
    assert.deepEqual([...new Set(statuses)], ["On leave"]);

    // Each column header orders the list by it, then the other way round; the
    // direction is said in aria-sort, and the view stays in the URL.
    const headers = tab.locator("table.records thead");
    for (const column of ["Employee ID", "Name", "Status", "Hired"]) {
      for (const direction of ["ascending", "descending"]) {
        await headers.getByRole("link", { name: column, exact: true }).click();
        await headers.locator(`th[aria-sort='${direction}']`, { hasText: column }).waitFor();
        assert.match(tab.url(), /status=on_leave/, column);
        const ids = await tab.locator("table.records tbody td[data-label='Employee ID']").allInnerTexts();
        assert.equal(ids.length, 20, column);
        // The imported IDs, names and e-mails all follow one numbering.
        if (column === "Employee ID" || column === "Name") {
          const sorted = [...ids].sort();
          assert.deepEqual(ids, direction === "ascending" ? sorted : sorted.reverse(), `${column} ${direction}`);
        }
      }
    }
    await check("list-sorted");
    await tab.getByLabel("Per page").selectOption("25");
    await tab.getByRole("button", { name: "Show" }).click();
    await tab.waitForURL(/per_page=25/);
    assert.match(tab.url(), /sort=-hire_date/, "the order is kept");
  });

  test("the export downloads every record as CSV that imports back", async () => {
    const { tab, app } = context;
    await tab.goto(`${app.base}/employees`);
    const download = tab.waitForEvent("download");
    await tab.getByRole("link", { name: "Export CSV" }).click();
    const file = await (await download).path();
    const lines = readFileSync(file, "utf8").trim().split("\n");
    assert.match(lines[0], /^employee_id,first_name,last_name,email,hire_date/);
    assert.equal(lines.length, 61);
    assert.ok(lines.some((line) => line.startsWith("T-060,Tess060,Zed060,tess060@example.com,2024-01-04")));
  });
});
