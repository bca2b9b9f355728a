import { expect, test } from "bun:test";
import { requiredLiteral } from "../../src/scan/literal.ts";

test("the longest text every match must contain", () => {
  expect(requiredLiteral("\\.pem$")).toBe(".pem");
  expect(requiredLiteral("^/etc/ssh/ssh_host_.*_key$")).toBe("/etc/ssh/ssh_host_");
  expect(requiredLiteral("id_rsa(\\.pub)?$")).toBe("id_rsa");
  expect(requiredLiteral("colou?r")).toBe("colo");
  expect(requiredLiteral("ab*cdef")).toBe("cdef");
  expect(requiredLiteral("x{2}yy")).toBe("yy");
  expect(requiredLiteral("[a-z]+\\.conf")).toBe(".conf");
  expect(requiredLiteral("\\d+\\.log")).toBe(".log");
});

test("no literal when one cannot be read with certainty", () => {
  expect(requiredLiteral("a|b")).toBeUndefined();
  expect(requiredLiteral("(foo|bar)baz")).toBeUndefined();
  expect(requiredLiteral("(abc)?")).toBeUndefined();
  expect(requiredLiteral(".*")).toBeUndefined();
  expect(requiredLiteral("\\w\\d")).toBeUndefined();
  expect(requiredLiteral("a{10}")).toBeUndefined();
  expect(requiredLiteral("\\u0041BC")).toBeUndefined();
});

test("every match of each regex contains its literal", () => {
  const cases: [string, string[]][] = [
    ["\\.pem$", ["/a/b.pem", "/.pem"]],
    ["colou?r", ["/color", "/colour"]],
    ["ab*cdef", ["/acdef", "/abbbcdef"]],
    ["id_rsa(\\.pub)?$", ["/root/.ssh/id_rsa", "/x/id_rsa.pub"]],
    ["[.]env\\b", ["/app/.env"]],
    ["a{10}", ["/aaaaaaaaaa"]],
    ["x{0,2}yz", ["/yz", "/xxyz"]],
  ];
  for (const [source, samples] of cases) {
    const re = new RegExp(source, "u");
    const lit = requiredLiteral(source);
    for (const s of samples) {
      expect(re.test(s)).toBe(true);
      if (lit !== undefined) expect(s).toContain(lit);
    }
  }
});
