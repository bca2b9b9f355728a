import { describe, expect, test } from "bun:test";
import { nextPage } from "../../src/hub/pages.ts";

describe("Docker Hub's next links", () => {
  const here = "https://hub.example/v2/search/repositories/?page=1";
  const origin = "https://hub.example";
  test("none for missing, null, empty or not a string", () => {
    for (const v of [undefined, null, "", 3, {}]) expect(nextPage(v, here, origin, "w")).toBeUndefined();
  });
  test("absolute or relative on the endpoint's origin", () => {
    expect(nextPage("https://hub.example/v2/search/repositories/?page=2", here, origin, "w")).toBe("https://hub.example/v2/search/repositories/?page=2");
    expect(nextPage("?page=3", here, origin, "w")).toBe("https://hub.example/v2/search/repositories/?page=3");
  });
  test("another host, port or scheme is refused, and so is anything but http(s)", () => {
    expect(() => nextPage("http://hub.example/v2/?page=2", here, origin, "w")).toThrow("w: the next page link leads to http://hub.example, not https://hub.example; refused");
    expect(() => nextPage("https://hub.example:444/v2/", here, origin, "w")).toThrow("refused");
    expect(() => nextPage("https://evil.example/v2/", here, origin, "w")).toThrow("refused");
    expect(() => nextPage("javascript:alert(1)", here, origin, "w")).toThrow("w: next page: refusing a javascript: URL (only http and https are fetched)");
    expect(() => nextPage("http://[bad", here, origin, "w")).toThrow("is not a valid URL");
  });
});
