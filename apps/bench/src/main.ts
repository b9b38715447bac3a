// Replaced by the benchmark harness in the next commit.
export {};
