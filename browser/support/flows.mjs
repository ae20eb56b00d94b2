// Steps many flows share, done as a person does them: through the pages, by label.
import assert from "node:assert/strict";
import { after, before, describe } from "node:test";

import { backends, startRoster } from "./app.mjs";
import { checkPage, launchBrowser, newTab, submit } from "./pages.mjs";

export const ADMIN = { username: "admin", password: "correct horse battery staple" };

// Runs `body` once per backend, each with a fresh Roster and browser: `body` gets a
// context whose `app`, `browser` and `tab` are set before its tests run.
export function onEachBackend(flow, body) {
  for (const backend of backends()) {
    describe(`${flow} (${backend})`, () => {
      const context = { flow: `${backend}/${flow}` };
      before(async () => {
        context.app = await startRoster(backend);
        context.browser = await launchBrowser();
        context.tab = await newTab(context.browser);
      });
      after(async () => {
        await context.browser?.close();
        await context.app?.stop();
      });
      body(context);
    });
  }
}

// The first administrator, made through the printed setup link, then signed in.
export async function setUpAdmin(tab, app, check) {
  await tab.goto(app.setupLink);
  if (check) await check("setup");
  await tab.getByLabel("Username").fill(ADMIN.username);
  await tab.getByLabel("Password", { exact: true }).fill(ADMIN.password);
  await tab.getByLabel("Password again").fill(ADMIN.password);
  const status = await submit(tab, () => tab.getByRole("button", { name: "Create administrator" }).click());
  assert.equal(status, 303);
  await assertSignedInAs(tab, ADMIN.username);
}

export async function signIn(tab, app, { username, password }) {
  await tab.goto(`${app.base}/login`);
  await tab.getByLabel("Username").fill(username);
  await tab.getByLabel("Password").fill(password);
  return submit(tab, () => tab.getByRole("button", { name: "Sign in" }).click());
}

export async function signOut(tab) {
  const status = await submit(tab, () => tab.getByRole("button", { name: "Sign out" }).click());
  assert.equal(status, 303);
  assert.match(tab.url(), /\/login$/);
}

export async function assertSignedInAs(tab, username) {
  await tab.getByRole("navigation", { name: "Main" }).getByText(username).waitFor();
}

// An admin adds an account on the users page.
export async function addUser(tab, app, { username, password, role }) {
  await tab.goto(`${app.base}/admin/users`);
  const form = tab.locator("form", { has: tab.getByRole("button", { name: "Add user" }) });
  await form.getByLabel("Username").fill(username);
  await form.getByLabel("Role").selectOption(role);
  await form.getByLabel("Initial password").fill(password);
  const status = await submit(tab, () => form.getByRole("button", { name: "Add user" }).click());
  assert.equal(status, 303);
}

// The employee form's fields by label, as a person fills them in.
const LABELS = {
  employee_id: "Employee ID",
  first_name: "First name",
  last_name: "Last name",
  email: "Work e-mail",
  phone: "Phone",
  date_of_birth: "Date of birth",
  hire_date: "Hire date",
  job_title: "Job title",
  manager_id: "Manager",
};

export async function fillEmployee(tab, fields) {
  for (const [name, value] of Object.entries(fields)) {
    const control = tab.getByLabel(LABELS[name] ?? name, { exact: false }).first();
    if (name === "status" || name === "department_id") await tab.locator(`#${name}`).selectOption(value);
    else await control.fill(value);
  }
}

export async function addEmployee(tab, app, fields) {
  await tab.goto(`${app.base}/employees/new`);
  await fillEmployee(tab, fields);
  return submit(tab, () => tab.getByRole("button", { name: "Add employee" }).click());
}

// The checks of every page, bound to a flow's screenshot folder.
export function checker(context) {
  return (name) => checkPage(context.tab, context.flow, name);
}
