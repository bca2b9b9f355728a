import { describe, expect, test } from "bun:test";
import { countField, flagField, jsonObject, readFields, resultsOf, textField, timeField } from "../../src/registry/api-json.ts";

const res = (type = "application/json") => new Response("", { headers: { "Content-Type": type } });
const bytes = (s: string) => new TextEncoder().encode(s);

describe("reading web API answers", () => {
  test("fields of the wrong type are absent", () => {
    expect([textField("a"), textField(""), textField(3), textField("abcdef", 3)]).toEqual(["a", undefined, undefined, "abc"]);
    expect([countField(3), countField(-1), countField(1.5), countField("3"), countField(2 ** 60)]).toEqual([3, undefined, undefined, undefined, undefined]);
    expect([flagField(true), flagField("true")]).toEqual([true, undefined]);
    expect([timeField("2024-06-20T17:33:00Z"), timeField("yesterday"), timeField(0), timeField("2024-06-20T17:33:00Z".padEnd(100, " "))]).toEqual([
      "2024-06-20T17:33:00.000Z",
      undefined,
      undefined,
      undefined,
    ]);
    expect(readFields<{ a: number; b: string }>({ x: 1, y: 2 }, { a: ["x", countField], b: ["y", textField] })).toEqual({ a: 1 });
  });
  test("HTML, bad JSON, non-objects and a missing results list are CORRUPT", () => {
    expect(jsonObject(res(), bytes('{"results":[]}'), "w")).toEqual({ results: [] });
    expect(() => jsonObject(res("text/html; charset=utf-8"), bytes("{}"), "w")).toThrow("w: the server answered with an HTML page, not the JSON of the API");
    expect(() => jsonObject(res(), bytes("  <!doctype html>"), "w")).toThrow("HTML page");
    expect(() => jsonObject(res(), bytes("{"), "w")).toThrow("w: the answer is not valid JSON");
    expect(() => jsonObject(res(), bytes("null"), "w")).toThrow("w: the answer is not a JSON object");
    expect(() => resultsOf({ results: {} }, "w")).toThrow('w: the answer has no "results" list');
  });
});
