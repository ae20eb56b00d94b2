// The create flow with the keyboard alone, with a visible focus ring on every stop.
import assert from "node:assert/strict";
import { test } from "node:test";

import { checker, onEachBackend, setUpAdmin } from "../support/flows.mjs";

// What has the focus, and whether its ring stands out: an outline of at least 2 px
// whose colour has 3:1 contrast against what is behind the element.
function focusRing() {
  const luminance = ([r, g, b]) => {
    const channel = (c) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  };
  const rgb = (colour) => colour.match(/[\d.]+/g).map(Number);
  const element = document.activeElement;
  let behind = element.parentElement;
  while (behind && rgb(getComputedStyle(behind).backgroundColor)[3] === 0) behind = behind.parentElement;
  const background = behind ? rgb(getComputedStyle(behind).backgroundColor) : [255, 255, 255];
  const style = getComputedStyle(element);
  const [ring, back] = [luminance(rgb(style.outlineColor)), luminance(background)];
  return {
    what: `${element.tagName.toLowerCase()}#${element.id} ${(element.innerText || element.value || "").slice(0, 30)}`,
    width: style.outlineStyle === "none" ? 0 : parseFloat(style.outlineWidth),
    contrast: (Math.max(ring, back) + 0.05) / (Math.min(ring, back) + 0.05),
  };
}

onEachBackend("keyboard", (context) => {
  const check = checker(context);

  test("an employee is added with the keyboard alone, the focus always visible", async () => {
    const { tab, app } = context;
    await setUpAdmin(tab, app);
    await tab.goto(`${app.base}/employees`);
    const stops = [];
    const press = async (key) => {
      await tab.keyboard.press(key);
      const ring = await tab.evaluate(focusRing);
      stops.push(ring);
      return ring;
    };
    let ring = await press("Tab");
    assert.match(ring.what, /Skip to content/);
    while (!/Add employee/.test(ring.what)) {
      ring = await press("Tab");
      assert.ok(stops.length < 30, "Add employee is reached by Tab");
    }
    await tab.keyboard.press("Enter");
    await tab.waitForURL(/\/employees\/new$/);
    const typed = {
      employee_id: "K-1",
      first_name: "Kay",
      last_name: "Board",
      email: "kay@example.com",
      hire_date: "2024-03-01",
    };
    for (;;) {
      ring = await press("Tab");
      const id = ring.what.split(" ")[0].split("#")[1];
      // A date field's segments take Tab stops of their own; each field is typed once.
      if (id in typed) {
        await tab.keyboard.type(id === "hire_date" ? "03012024" : typed[id]);
        delete typed[id];
      }
      // The header's "Sign out" is a button too; the form's own ends the form.
      if (/^button#\S* Add employee/.test(ring.what)) break;
      assert.ok(stops.length < 60, "the submit button is reached by Tab");
    }
    assert.deepEqual(typed, {}, "every required field was reached");
    await check("form-keyboard");
    await tab.keyboard.press("Enter");
    await tab.waitForURL(/\/employees\/K-1$/);
    await tab.getByRole("status").filter({ hasText: "K-1" }).waitFor();
    const hidden = stops.filter((stop) => stop.width < 2 || stop.contrast < 3);
    assert.deepEqual(hidden, [], "every focus stop has a ring of 2 px and 3:1");
  });
});
