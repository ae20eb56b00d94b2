// One employee's life as HR staff live it: added with every field, refused with reasons,
// edited (and edited stale in a second tab), looked back on, and removed.
import assert from "node:assert/strict";
import { test } from "node:test";

import { addEmployee, checker, fillEmployee, onEachBackend, setUpAdmin } from "../support/flows.mjs";
import { newTab, submit } from "../support/pages.mjs";

const ANN = {
  employee_id: "e-1001",
  first_name: "Ann",
  last_name: "Lee",
  email: "Ann.Lee@Example.com",
  phone: "+44 20 7946 0018",
  date_of_birth: "1990-07-14",
  hire_date: "2024-03-01",
  job_title: "Payroll lead",
  status: "on_leave",
};

// Submits a new employee that must be refused with `status`, and answers the links of
// the error summary (which must have the focus), in order, and its text.
async function refused(tab, app, fields, status) {
  assert.equal(await addEmployee(tab, app, fields), status);
  const box = tab.locator(".error-summary");
  await box.waitFor();
  assert.ok(await box.evaluate((element) => element === document.activeElement), "the error summary has the focus");
  return {
    targets: await box.locator("a[href^='#']").evaluateAll((links) => links.map((link) => link.getAttribute("href"))),
    text: await box.innerText(),
  };
}

onEachBackend("employees", (context) => {
  const check = checker(context);

  test("an employee is added with every field and shown as stored", async () => {
    const { tab, app } = context;
    await setUpAdmin(tab, app);
    await tab.goto(`${app.base}/employees/new`);
    await check("form-empty");
    await fillEmployee(tab, ANN);
    assert.equal(await submit(tab, () => tab.getByRole("button", { name: "Add employee" }).click()), 303);
    assert.match(tab.url(), /\/employees\/E-1001$/);
    await tab.getByRole("status").filter({ hasText: "Employee E-1001 was added." }).waitFor();
    const record = await tab.locator("dl.record").innerText();
    for (const shown of ["E-1001", "ann.lee@example.com", "On leave", "2024-03-01", "Payroll lead", "+44 20 7946 0018", "1990-07-14"]) {
      assert.ok(record.includes(shown), `the record shows ${shown}: ${record}`);
    }
    await check("record");
  });

  test("invalid fields answer 422 with the focus on a summary in the form's order, values kept", async () => {
    const { tab, app } = context;
    const { targets, text } = await refused(
      tab,
      app,
      { employee_id: "E 1", first_name: " ", last_name: "Lee", email: "nope", phone: "call me", job_title: "Clerk" },
      422,
    );
    assert.deepEqual(targets, ["#employee_id", "#first_name", "#email", "#phone", "#hire_date"]);
    assert.match(text, /Use digits, spaces/);
    assert.equal(await tab.getByLabel("Employee ID", { exact: true }).inputValue(), "E 1");
    assert.equal(await tab.getByLabel("Job title").inputValue(), "Clerk");
    await check("form-422");
  });

  test("every problem comes in one answer: fields, taken ID and e-mail, unknown manager", async () => {
    const { tab, app } = context;
    const { targets, text } = await refused(
      tab,
      app,
      { employee_id: "E-1001", first_name: "", last_name: "Other", email: "ann.lee@example.com", hire_date: "2024-05-01", manager_id: "NOBODY-1" },
      422,
    );
    assert.deepEqual(targets, ["#employee_id", "#first_name", "#email", "#manager_id"]);
    assert.match(text, /E-1001/);
    assert.match(text, /No employee has this ID/);
    await check("form-every-problem");
  });

  test("a taken ID alone answers 409 naming the record that holds it", async () => {
    const { tab, app } = context;
    const { targets } = await refused(
      tab,
      app,
      { employee_id: " e-1001 ", first_name: "Another", last_name: "Person", email: "another@example.com", hire_date: "2024-05-01" },
      409,
    );
    assert.deepEqual(targets, ["#employee_id"]);
    await tab.locator(".error-summary").getByRole("link", { name: "E-1001" }).waitFor();
    assert.equal(await tab.getByLabel("Work e-mail").inputValue(), "another@example.com");
    await check("form-409");
  });

  test("an edit saves; a stale edit in a second tab is refused and overwrites nothing", async () => {
    const { tab, app } = context;
    await tab.goto(`${app.base}/employees/E-1001`);
    await tab.getByRole("link", { name: "Edit" }).click();
    await tab.waitForURL(/\/edit$/);
    const second = await tab.context().newPage();
    await second.goto(tab.url());
    await tab.getByLabel("Job title").fill("Head of payroll");
    await check("form-edit");
    assert.equal(await submit(tab, () => tab.getByRole("button", { name: "Save changes" }).click()), 303);
    await tab.getByRole("status").filter({ hasText: "saved" }).waitFor();

    await second.getByLabel("Job title").fill("Stale title");
    assert.equal(await submit(second, () => second.getByRole("button", { name: "Save changes" }).click()), 409);
    await second.getByRole("heading", { name: "Someone else changed this record meanwhile" }).waitFor();
    await checker({ tab: second, flow: context.flow })("form-stale");
    await second.close();
    await tab.goto(`${app.base}/employees/E-1001`);
    assert.match(await tab.locator("dl.record").innerText(), /Head of payroll/);
  });

  test("the history shows each change with its before and after", async () => {
    const { tab, app } = context;
    await tab.goto(`${app.base}/employees/E-1001`);
    await tab.getByRole("link", { name: "History" }).click();
    await tab.getByRole("heading", { name: "History of E-1001" }).waitFor();
    const changed = tab.getByRole("row").filter({ hasText: "Head of payroll" });
    assert.match(await changed.innerText(), /Payroll lead/);
    await check("history");
    // Stacked at phone width, each cell still says what it is.
    await tab.setViewportSize({ width: 375, height: 740 });
    const labels = await changed.locator("td").evaluateAll((cells) => cells.map((cell) => cell.dataset.label));
    assert.deepEqual(labels, ["Field", "Before", "After"]);
    await tab.setViewportSize({ width: 1280, height: 800 });
  });

  test("removing asks for confirmation, then the record is gone", async () => {
    const { tab, app } = context;
    await tab.goto(`${app.base}/employees/E-1001`);
    await tab.getByRole("link", { name: "Remove" }).click();
    await tab.getByRole("heading", { name: /Remove Ann Lee/ }).waitFor();
    await check("remove-confirm");
    await tab.getByRole("link", { name: "Keep the record" }).click();
    assert.match(tab.url(), /\/employees\/E-1001$/);
    await tab.getByRole("link", { name: "Remove" }).click();
    assert.equal(await submit(tab, () => tab.getByRole("button", { name: "Remove E-1001" }).click()), 303);
    await tab.getByRole("status").filter({ hasText: "E-1001" }).waitFor();
    const gone = await tab.goto(`${app.base}/employees/E-1001`);
    assert.equal(gone.status(), 404);
    await check("not-found");
  });
});
