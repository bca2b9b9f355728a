/**
 * Floor: a compiled Bun program that only prints. What any command of a `bun build --compile`
 * binary costs before it does anything (the runtime's start-up and its own pages).
 */
console.log("hello");
