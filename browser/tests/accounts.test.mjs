// First administrator, signing in and out, users and roles: what each role may see.
import assert from "node:assert/strict";
import { test } from "node:test";

import { ADMIN, addEmployee, addUser, assertSignedInAs, checker, onEachBackend, setUpAdmin, signIn, signOut } from "../support/flows.mjs";

const HR = { username: "harriet", password: "hr password for tests", role: "hr" };
const VIEWER = { username: "victor", password: "viewer password for tests", role: "viewer" };

onEachBackend("accounts", (context) => {
  const check = checker(context);

  test("the first administrator is made through the setup link and can sign out and in", async () => {
    const { tab, app } = context;
    await setUpAdmin(tab, app, check);
    await check("employees-empty");
    await signOut(tab);
    await check("sign-in");
    assert.equal(await signIn(tab, app, { ...ADMIN, password: "wrong password" }), 401);
    await tab.getByRole("alert").waitFor();
    await check("sign-in-refused");
    assert.equal(await signIn(tab, app, ADMIN), 303);
    await assertSignedInAs(tab, ADMIN.username);
  });

  test("an admin adds an HR user and a viewer, who sign in with their roles", async () => {
    const { tab, app } = context;
    await addUser(tab, app, HR);
    await addUser(tab, app, VIEWER);
    await tab.getByRole("cell", { name: VIEWER.username, exact: true }).waitFor();
    await check("users");
    assert.equal(await addEmployee(tab, app, { employee_id: "R-1", first_name: "Rita", last_name: "Role", email: "rita@example.com", hire_date: "2024-03-01" }), 303);
    await signOut(tab);

    assert.equal(await signIn(tab, app, HR), 303);
    await assertSignedInAs(tab, HR.username);
    await tab.goto(`${app.base}/employees/R-1`);
    await tab.getByRole("link", { name: "Edit" }).waitFor();
    assert.equal(await tab.getByRole("link", { name: "Remove" }).count(), 0, "only an admin removes");
    assert.equal(await tab.getByRole("link", { name: "Users" }).count(), 0, "only an admin sees users");
    await signOut(tab);
  });

  test("a viewer sees no button it may not use, and is refused if it tries", async () => {
    const { tab, app } = context;
    assert.equal(await signIn(tab, app, VIEWER), 303);
    await assertSignedInAs(tab, VIEWER.username);
    await check("employees-as-viewer");
    for (const name of ["Add employee", "Import", "Export CSV", "Users"]) {
      assert.equal(await tab.getByRole("link", { name }).count(), 0, `a viewer sees ${name}`);
    }
    await tab.getByRole("link", { name: "R-1" }).click();
    await tab.getByRole("heading", { name: /Rita Role/ }).waitFor();
    await check("record-as-viewer");
    for (const name of ["Edit", "Remove"]) {
      assert.equal(await tab.getByRole("link", { name }).count(), 0, `a viewer sees ${name}`);
    }
    const refused = await tab.goto(`${app.base}/employees/new`);
    assert.equal(refused.status(), 403);
    await check("refused");
    await tab.getByRole("link", { name: "Back to the employee list" }).click();
    await signOut(tab);
  });
});
