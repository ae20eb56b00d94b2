// The same person twice: asked about on the form, found on the possible-duplicates page
// after an import that accepted it, merged into one record; and a double click that
// adds one record.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { addEmployee, checker, fillEmployee, onEachBackend, setUpAdmin } from "../support/flows.mjs";
import { submit } from "../support/pages.mjs";

const ADA = {
  employee_id: "E-1",
  first_name: "Ada",
  last_name: "Lovelace",
  email: "ada@example.com",
  date_of_birth: "1985-12-10",
  hire_date: "2024-03-01",
};

onEachBackend("people", (context) => {
  const check = checker(context);

  test("the same person under another ID is asked about until confirmed as someone else", async () => {
    const { tab, app } = context;
    await setUpAdmin(tab, app);
    assert.equal(await addEmployee(tab, app, ADA), 303);
    const twin = { ...ADA, employee_id: "E-2", first_name: "LOVELACE", last_name: "ada", email: "ada2@example.com" };
    assert.equal(await addEmployee(tab, app, twin), 409);
    const summary = tab.locator(".error-summary");
    assert.ok(await summary.evaluate((element) => element === document.activeElement), "the summary has the focus");
    assert.match(await summary.innerText(), /may be someone already on file/);
    const candidates = tab.getByRole("group", { name: "Possibly the same person" });
    assert.match(await candidates.innerText(), /E-1 · Ada Lovelace: same name and date of birth/);
    assert.equal(await tab.getByLabel("Employee ID", { exact: true }).inputValue(), "E-2", "values are kept");
    await check("form-likely");
    await candidates.getByLabel("This is a different person").check();
    assert.equal(await submit(tab, () => tab.getByRole("button", { name: "Add employee" }).click()), 303);
    assert.match(tab.url(), /\/employees\/E-2$/);
    await tab.getByRole("link", { name: "History" }).click();
    assert.match(await tab.locator("main").innerText(), /confirmed a different person than/i);
  });

  test("an accepted import's twin is listed, then merged into the record that stays", async () => {
    const { tab, app } = context;
    const path = join(tmpdir(), `roster-browser-${process.pid}-people.csv`);
    writeFileSync(path, "employee_id,first_name,last_name,email,hire_date,date_of_birth,job_title\n"
      + "I-1,Ada,Lovelace,ada.l@example.com,2024-03-01,1985-12-10,Analyst\n");
    await tab.goto(`${app.base}/employees/import`);
    await tab.getByLabel("CSV file").setInputFiles(path);
    assert.equal(await submit(tab, () => tab.getByRole("button", { name: "Import" }).click()), 200);
    assert.match(await tab.getByRole("alert").innerText(), /look like people already on file/);
    await check("import-likely");
    await tab.getByLabel("CSV file").setInputFiles(path);
    await tab.getByLabel(/Import rows that look like someone already on file/).check();
    assert.equal(await submit(tab, () => tab.getByRole("button", { name: "Import" }).click()), 200);
    assert.match(await tab.getByRole("status").innerText(), /Imported 1 records/);

    await tab.getByRole("link", { name: "Possible duplicates" }).click();
    const pair = tab.getByRole("row").filter({ hasText: "I-1" }).filter({ hasText: "E-1 · Ada Lovelace" });
    assert.match(await pair.innerText(), /same name and date of birth/);
    await check("duplicates");
    await pair.getByRole("link", { name: /Merge/ }).click();
    await tab.getByRole("heading", { name: "Merge I-1 into E-1?" }).waitFor();
    await check("merge");
    assert.equal(await submit(tab, () => tab.getByRole("button", { name: "Merge I-1 into E-1" }).click()), 303);
    assert.match(tab.url(), /\/employees\/E-1$/);
    assert.match(await tab.locator("dl.record").innerText(), /Analyst/, "the empty job title was taken over");
    await tab.goto(`${app.base}/employees/I-1`);
    assert.match(tab.url(), /\/employees\/E-1$/, "the old address leads to the record that stayed");

    await tab.goto(`${app.base}/duplicates`);
    const left = tab.getByRole("row").filter({ hasText: "E-2" });
    if (await left.count()) {
      await submit(tab, () => left.first().getByRole("button", { name: /Not the same person/ }).click());
    }
    await tab.getByText("No two records look like the same person.").waitFor();
    await check("duplicates-none");
  });

  test("a double click on Add employee adds one record", async () => {
    const { tab, app } = context;
    await tab.goto(`${app.base}/employees/new`);
    await fillEmployee(tab, { ...ADA, employee_id: "D-1", first_name: "Dora", email: "dora@example.com" });
    const answered = tab.waitForURL(/\/employees\/D-1$/);
    await tab.getByRole("button", { name: "Add employee" }).dblclick();
    await answered;
    await tab.getByRole("status").filter({ hasText: "Employee D-1 was added." }).waitFor();
    await tab.goto(`${app.base}/employees?q=dora`);
    assert.equal(await tab.getByRole("row").filter({ hasText: "D-1" }).count(), 1);
  });
});
