// A Node.js (CommonJS) function whose behaviour is chosen by the event's "action".
exports.handler = async (event, context) => {
  if (event.action === "error") {
    throw new TypeError(event.message || "node boom");
  }
  if (event.action === "callback") {
    return undefined;
  }
  console.log("node echo", JSON.stringify(event));
  return {
    event,
    pid: process.pid,
    requestId: context.awsRequestId,
    functionName: context.functionName,
    remaining: context.getRemainingTimeInMillis(),
  };
};

exports.withCallback = (event, context, callback) => {
  setTimeout(() => callback(null, { viaCallback: true, event }), 5);
};
