// A Node.js ES module handler.
export const handler = async (event) => ({ esm: true, event });
