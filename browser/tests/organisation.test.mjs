// The organisation in the browser: a department added (and refused a second time under
// another spelling), managers by name on the record, the org chart folding without a
// script, and a leaver terminated and brought back. Every new page passes axe.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { addEmployee, checker, onEachBackend, setUpAdmin } from "../support/flows.mjs";
import { submit } from "../support/pages.mjs";

const BOSS = { employee_id: "B-1", first_name: "Ada", last_name: "Lovelace", email: "ada@example.com", hire_date: "2024-03-01", job_title: "Director" };
const REPORT = { employee_id: "R-1", first_name: "Grace", last_name: "Hopper", email: "grace@example.com", hire_date: "2024-03-01", manager_id: "B-1" };

onEachBackend("organisation", (context) => {
  const check = checker(context);

  test("a department is added once, whatever its spelling", async () => {
    const { tab, app } = context;
    await setUpAdmin(tab, app);
    await tab.goto(`${app.base}/departments`);
    await tab.getByLabel("Name").fill("Field Ops");
    assert.equal(await submit(tab, () => tab.getByRole("button", { name: "Add department" }).click()), 303);
    await tab.getByRole("status").filter({ hasText: "Department “Field Ops” was added." }).waitFor();
    await check("departments");
    await tab.getByLabel("Name").fill("field  OPS");
    assert.equal(await submit(tab, () => tab.getByRole("button", { name: "Add department" }).click()), 409);
    const summary = tab.locator(".error-summary");
    assert.ok(await summary.evaluate((element) => element === document.activeElement), "the summary has the focus");
    assert.match(await summary.innerText(), /There is a department called “Field Ops” already/);
    assert.equal(await tab.getByLabel("Name").inputValue(), "field  OPS", "the name typed is kept");
    await check("departments-taken");
    await tab.goto(`${app.base}/departments`);
    await tab.getByRole("link", { name: "Edit Field Ops" }).click();
    await check("department-edit");
    await tab.getByLabel("Head's employee ID").fill("NOBODY-1");
    assert.equal(await submit(tab, () => tab.getByRole("button", { name: "Save department" }).click()), 422);
    assert.match(await tab.locator(".error-summary").innerText(), /Head:/);
    assert.equal(await tab.getByLabel("Head's employee ID").inputValue(), "NOBODY-1", "the head typed is kept");
    await check("department-edit-refused");
  });

  test("the record names its manager and reports, and the org chart nests them", async () => {
    const { tab, app } = context;
    assert.equal(await addEmployee(tab, app, BOSS), 303);
    assert.equal(await addEmployee(tab, app, REPORT), 303);
    await tab.goto(`${app.base}/employees/B-1`);
    await tab.getByRole("region", { name: "Direct reports" }).getByRole("link", { name: "Grace Hopper (R-1)" }).waitFor();
    await check("record-with-reports");
    await tab.getByRole("link", { name: "Org chart" }).first().click();
    await tab.locator("ul.org > li", { hasText: "Ada Lovelace" }).locator("details[open]").waitFor();
    assert.ok(await tab.locator("ul.org details ul").getByRole("link", { name: "Grace Hopper" }).isVisible());
    await check("org-chart");
  });

  test("a leaver is terminated with a date, hidden from the list, and reactivated", async () => {
    const { tab, app } = context;
    await tab.goto(`${app.base}/employees/B-1`);
    await tab.getByRole("link", { name: "Terminate…" }).click();
    await tab.getByLabel("Last day of employment").fill("2026-12-31");
    assert.equal(await submit(tab, () => tab.getByRole("button", { name: "Terminate B-1" }).click()), 409);
    assert.match(await tab.locator(".error-summary").innerText(), /still manages someone[\s\S]*Grace Hopper \(R-1\)/);
    await check("terminate-refused");
    await tab.goto(`${app.base}/employees/R-1/terminate`);
    await check("terminate");
    await tab.getByLabel("Reason").fill("moved abroad");
    assert.equal(await submit(tab, () => tab.getByRole("button", { name: "Terminate R-1" }).click()), 303);
    await tab.getByRole("status").filter({ hasText: "is recorded as having left" }).waitFor();
    assert.match(await tab.locator("h1").innerText(), /Terminated/);
    await check("record-left");
    await tab.goto(`${app.base}/employees`);
    assert.equal(await tab.getByRole("link", { name: "R-1" }).count(), 0, "leavers are not in the default list");
    await tab.goto(`${app.base}/employees/R-1`);
    assert.equal(await submit(tab, () => tab.getByRole("button", { name: "Reactivate (rehire)" }).click()), 303);
    await tab.getByRole("status").filter({ hasText: "is active again" }).waitFor();
    await tab.goto(`${app.base}/employees`);
    await tab.getByRole("link", { name: "R-1" }).waitFor();
  });

  test("an import creates a missing department only when asked", async () => {
    const { tab, app } = context;
    const path = join(tmpdir(), `roster-browser-${process.pid}-departments.csv`);
    writeFileSync(path, "employee_id,first_name,last_name,email,hire_date,department\nD-1,Dora,Day,dora@example.com,2024-03-01,Night Shift\n");
    const upload = async (create) => {
      await tab.goto(`${app.base}/employees/import`);
      await tab.getByLabel("CSV file").setInputFiles(path);
      await tab.getByLabel("Create the departments the file names").setChecked(create);
      return submit(tab, () => tab.getByRole("button", { name: "Import" }).click());
    };
    assert.equal(await upload(false), 200);
    assert.match(await tab.getByRole("row").filter({ hasText: "D-1" }).innerText(), /no department named "Night Shift"/);
    assert.equal(await upload(true), 200);
    assert.match(await tab.getByRole("status").last().innerText(), /created the departments Night Shift/);
    assert.equal(await tab.getByLabel("Create the departments the file names").isChecked(), true, "the choice is kept");
    await check("import-created-departments");
    await tab.goto(`${app.base}/departments`);
    await tab.getByRole("cell", { name: "Night Shift", exact: true }).waitFor();
  });
});
