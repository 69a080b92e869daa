package lamina.runtime;

import com.amazonaws.services.lambda.runtime.Client;
import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.amazonaws.services.lambda.runtime.LambdaRuntime;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;
import com.amazonaws.services.lambda.runtime.logging.LogLevel;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Lamina's Java runtime client: speaks the Lambda Runtime API (AWS_LAMBDA_RUNTIME_API) and
 * calls the handler _HANDLER names ({@code pkg.Class::method} or {@code pkg.Class}) with
 * AWS's Java contract: POJO, Map, String and stream signatures, the Context, and errors in
 * AWS's Java shape.
 */
public final class Bootstrap {
    private static final Map<String, String> JSON_HEADERS = Collections.singletonMap("Content-Type", "application/json");

    private static RuntimeApi api;
    private static Logger logger;

    private Bootstrap() {
    }

    /** What the handler is and how it is called. */
    private interface Call {
        byte[] invoke(byte[] event, Context context) throws Throwable;
    }

    public static void main(String[] args) {
        api = new RuntimeApi(System.getenv("AWS_LAMBDA_RUNTIME_API"));
        logger = new Logger();
        LambdaRuntime.setLogger(logger);
        Call call;
        try {
            call = load(System.getenv("_HANDLER"));
        } catch (Throwable t) {
            Throwable shown = unwrap(t);
            String message = shown instanceof UserFault ? shown.getMessage() : String.valueOf(shown.getMessage());
            String type = shown instanceof UserFault ? ((UserFault) shown).type : shown.getClass().getName();
            logger.error(message + ": " + type, shown instanceof UserFault ? null : shown);
            try {
                api.request("POST", "/init/error", Json.write(errorDoc(message, type, shown, 0))
                        .getBytes(StandardCharsets.UTF_8), errorHeaders(type));
            } catch (Exception e) {
                // the environment is failing anyway
            }
            System.exit(1);
            return;
        }
        while (true) {
            RuntimeApi.Response next;
            try {
                next = api.request("GET", "/invocation/next", null, null);
            } catch (Exception e) {
                System.err.println("Lamina runtime: the Runtime API is gone: " + e);
                System.exit(1);
                return;
            }
            if (next.status != 200) {
                System.err.println("Lamina runtime: /invocation/next answered " + next.status);
                System.exit(1);
                return;
            }
            Invocation ctx = new Invocation(next.headers, logger);
            String trace = next.headers.get("lambda-runtime-trace-id");
            if (trace != null) {
                System.setProperty("com.amazonaws.xray.traceHeader", trace);
            } else {
                System.clearProperty("com.amazonaws.xray.traceHeader");
            }
            logger.requestId = ctx.getAwsRequestId();
            String id = ctx.getAwsRequestId();
            byte[] result;
            try {
                result = call.invoke(next.body, ctx);
            } catch (Throwable t) {
                Throwable shown = unwrap(t);
                // As AWS's runtime does: after an error the JVM cannot recover from, the
                // environment ends.
                boolean fatal = shown instanceof VirtualMachineError || shown instanceof java.io.IOError;
                String type = shown instanceof UserFault ? ((UserFault) shown).type : shown.getClass().getName();
                logger.error(shown.getMessage() + ": " + type, shown instanceof UserFault ? shown.getCause() : shown);
                post("/invocation/" + id + "/error", Json.write(errorDoc(shown.getMessage(), type, shown, 0)), errorHeaders(type));
                if (fatal) {
                    System.exit(1);
                }
                continue;
            }
            try {
                api.request("POST", "/invocation/" + id + "/response", result, null);
            } catch (Exception e) {
                System.err.println("Lamina runtime: could not post the response: " + e);
                System.exit(1);
            }
        }
    }

    private static void post(String path, String body, Map<String, String> headers) {
        try {
            api.request("POST", path, body.getBytes(StandardCharsets.UTF_8), headers);
        } catch (Exception e) {
            System.err.println("Lamina runtime: could not post to " + path + ": " + e);
            System.exit(1);
        }
    }

    private static Map<String, String> errorHeaders(String type) {
        Map<String, String> h = new HashMap<String, String>(JSON_HEADERS);
        h.put("Lambda-Runtime-Function-Error-Type", type);
        return h;
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof InvocationTargetException || t instanceof ExceptionInInitializerError) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** An error of the function's making, reported with a type of the runtime's choosing. */
    static final class UserFault extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final String type;

        UserFault(String message, String type, Throwable cause) {
            super(message, cause);
            this.type = type;
        }
    }

    /** AWS's Java error document: message, type, the user's stack frames, and the cause. */
    static Map<String, Object> errorDoc(String message, String type, Throwable t, int depth) {
        Map<String, Object> doc = new LinkedHashMap<String, Object>();
        if (message != null) {
            doc.put("errorMessage", message);
        }
        doc.put("errorType", type);
        if (t != null && !(t instanceof UserFault)) {
            doc.put("stackTrace", frames(t));
        }
        Throwable cause = t == null ? null : t.getCause();
        if (cause != null && cause != t && depth < 16) {
            doc.put("cause", errorDoc(cause.getMessage(), cause.getClass().getName(), cause, depth + 1));
        }
        return doc;
    }

    /** The stack frames of the function's own code: those below the runtime's are left out. */
    static List<String> frames(Throwable t) {
        List<String> out = new ArrayList<String>();
        for (StackTraceElement e : t.getStackTrace()) {
            String c = e.getClassName();
            if (c.startsWith("lamina.runtime.")) {
                break;
            }
            out.add(frame(e));
        }
        // Reflection's own frames, between the function and the runtime, are not the user's.
        while (!out.isEmpty()) {
            String last = out.get(out.size() - 1);
            if (last.startsWith("java.lang.reflect.") || last.startsWith("jdk.internal.reflect.")
                    || last.startsWith("sun.reflect.") || last.startsWith("java.base/")) {
                out.remove(out.size() - 1);
            } else {
                break;
            }
        }
        return out;
    }

    private static String frame(StackTraceElement e) {
        String where;
        if (e.isNativeMethod()) {
            where = "Native Method";
        } else if (e.getFileName() == null) {
            where = "Unknown Source";
        } else if (e.getLineNumber() >= 0) {
            where = e.getFileName() + ":" + e.getLineNumber();
        } else {
            where = e.getFileName();
        }
        return e.getClassName() + "." + e.getMethodName() + "(" + where + ")";
    }

    // ---- the handler ----

    static Call load(String handler) throws Throwable {
        if (handler == null || handler.isEmpty()) {
            throw new UserFault("Handler not set", "java.lang.IllegalArgumentException", null);
        }
        int sep = handler.indexOf("::");
        String className = sep >= 0 ? handler.substring(0, sep) : handler;
        String methodName = sep >= 0 ? handler.substring(sep + 2) : null;
        Class<?> c;
        try {
            c = Class.forName(className, true, Bootstrap.class.getClassLoader());
        } catch (ClassNotFoundException | NoClassDefFoundError e) {
            throw new UserFault("Class not found: " + className, "java.lang.ClassNotFoundException", null);
        }
        if (methodName == null) {
            return forInterface(c);
        }
        return forMethod(c, methodName);
    }

    private static Object instance(Class<?> c) throws Throwable {
        try {
            java.lang.reflect.Constructor<?> k = c.getDeclaredConstructor();
            k.setAccessible(true);
            return k.newInstance();
        } catch (NoSuchMethodException e) {
            throw new UserFault("Class " + c.getName() + " has no public zero-argument constructor",
                    "java.lang.NoSuchMethodException", null);
        }
    }

    private static Call forInterface(Class<?> c) throws Throwable {
        if (RequestStreamHandler.class.isAssignableFrom(c)) {
            final RequestStreamHandler h = (RequestStreamHandler) instance(c);
            return new Call() {
                public byte[] invoke(byte[] event, Context context) throws Throwable {
                    ByteArrayOutputStream out = new ByteArrayOutputStream();
                    h.handleRequest(new ByteArrayInputStream(event), out, context);
                    return out.toByteArray();
                }
            };
        }
        if (RequestHandler.class.isAssignableFrom(c)) {
            @SuppressWarnings("unchecked")
            final RequestHandler<Object, Object> h = (RequestHandler<Object, Object>) instance(c);
            final Type input = handlerInput(c);
            return new Call() {
                public byte[] invoke(byte[] event, Context context) throws Throwable {
                    Object in = input(event, input);
                    return output(h.handleRequest(in, context));
                }
            };
        }
        throw new UserFault("Class " + c.getName() + " does not implement RequestHandler or RequestStreamHandler",
                "java.lang.IllegalArgumentException", null);
    }

    /** The input type a class gives RequestHandler, followed through its superclasses. */
    private static Type handlerInput(Class<?> c) {
        for (Class<?> k = c; k != null; k = k.getSuperclass()) {
            for (Type t : k.getGenericInterfaces()) {
                if (t instanceof ParameterizedType && ((ParameterizedType) t).getRawType() == RequestHandler.class) {
                    return ((ParameterizedType) t).getActualTypeArguments()[0];
                }
            }
        }
        return Object.class;
    }

    private static Call forMethod(final Class<?> c, String name) throws Throwable {
        Method best = null;
        int bestRank = -1;
        for (Method m : c.getMethods()) {
            if (!m.getName().equals(name)) {
                continue;
            }
            int rank = rank(m);
            if (rank > bestRank) {
                best = m;
                bestRank = rank;
            }
        }
        if (best == null) {
            throw new UserFault("No public method named " + name + " with appropriate method signature found on class "
                    + c.getName(), "java.lang.NoSuchMethodException", null);
        }
        final Method m = best;
        m.setAccessible(true);
        final Object target = Modifier.isStatic(m.getModifiers()) ? null : instance(c);
        final Class<?>[] p = m.getParameterTypes();
        final boolean stream = p.length >= 2 && p[0] == InputStream.class && p[1] == OutputStream.class;
        final Type input = p.length >= 1 && !stream && p[0] != Context.class ? m.getGenericParameterTypes()[0] : null;
        final boolean wantsVoid = m.getReturnType() == void.class;
        return new Call() {
            public byte[] invoke(byte[] event, Context context) throws Throwable {
                Object[] args = new Object[p.length];
                ByteArrayOutputStream out = null;
                if (stream) {
                    out = new ByteArrayOutputStream();
                    args[0] = new ByteArrayInputStream(event);
                    args[1] = out;
                    if (p.length == 3) {
                        args[2] = context;
                    }
                } else if (input == null) {
                    if (p.length == 1) {
                        args[0] = context;
                    }
                } else {
                    args[0] = input(event, input);
                    if (p.length == 2) {
                        args[1] = context;
                    }
                }
                Object result;
                try {
                    result = m.invoke(target, args);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                }
                if (stream) {
                    return out.toByteArray();
                }
                return wantsVoid ? "null".getBytes(StandardCharsets.UTF_8) : output(result);
            }
        };
    }

    /** How well a method fits AWS's handler signatures; -1 when it does not. */
    private static int rank(Method m) {
        Class<?>[] p = m.getParameterTypes();
        int bridge = m.isBridge() ? 0 : 1;
        if (p.length == 3 && p[0] == InputStream.class && p[1] == OutputStream.class && p[2] == Context.class) {
            return 10 + bridge;
        }
        if (p.length == 2 && p[0] == InputStream.class && p[1] == OutputStream.class) {
            return 8 + bridge;
        }
        if (p.length == 2 && p[1] == Context.class) {
            return 6 + bridge;
        }
        if (p.length == 1) {
            return 4 + bridge;
        }
        if (p.length == 0) {
            return 2 + bridge;
        }
        return -1;
    }

    private static Object input(byte[] event, Type type) {
        Class<?> raw = Binder.raw(type);
        if (raw == InputStream.class) {
            return new ByteArrayInputStream(event);
        }
        if (raw == byte[].class && event.length > 0 && event[0] != '"') {
            return event;
        }
        String text = new String(event, StandardCharsets.UTF_8);
        Object json;
        try {
            json = text.trim().isEmpty() ? null : Json.parse(text);
            return Binder.bind(json, type);
        } catch (RuntimeException e) {
            throw new UserFault("An error occurred during JSON parsing", "java.lang.RuntimeException",
                    e instanceof Binder.BindException && e.getCause() != null ? e.getCause() : e);
        }
    }

    private static byte[] output(Object result) {
        try {
            return Json.write(result).getBytes(StandardCharsets.UTF_8);
        } catch (RuntimeException e) {
            throw new UserFault("An error occurred during JSON serialization of response", "java.lang.RuntimeException", e);
        }
    }

    // ---- the context ----

    /** One invocation's context, from the Runtime API's headers. */
    static final class Invocation implements Context {
        private final String requestId;
        private final long deadlineMs;
        private final String arn;
        private final Cognito identity;
        private final Mobile client;
        private final LambdaLogger log;

        Invocation(Map<String, String> h, LambdaLogger log) {
            this.requestId = h.get("lambda-runtime-aws-request-id");
            String deadline = h.get("lambda-runtime-deadline-ms");
            this.deadlineMs = deadline == null ? 0 : Long.parseLong(deadline);
            this.arn = h.get("lambda-runtime-invoked-function-arn");
            this.identity = Cognito.from(h.get("lambda-runtime-cognito-identity"));
            this.client = Mobile.from(h.get("lambda-runtime-client-context"));
            this.log = log;
        }

        public String getAwsRequestId() {
            return requestId;
        }

        public String getLogGroupName() {
            return System.getenv("AWS_LAMBDA_LOG_GROUP_NAME");
        }

        public String getLogStreamName() {
            return System.getenv("AWS_LAMBDA_LOG_STREAM_NAME");
        }

        public String getFunctionName() {
            return System.getenv("AWS_LAMBDA_FUNCTION_NAME");
        }

        public String getFunctionVersion() {
            return System.getenv("AWS_LAMBDA_FUNCTION_VERSION");
        }

        public String getInvokedFunctionArn() {
            return arn;
        }

        public CognitoIdentity getIdentity() {
            return identity;
        }

        public ClientContext getClientContext() {
            return client;
        }

        public int getRemainingTimeInMillis() {
            return (int) Math.max(0, deadlineMs - System.currentTimeMillis());
        }

        public int getMemoryLimitInMB() {
            String m = System.getenv("AWS_LAMBDA_FUNCTION_MEMORY_SIZE");
            return m == null ? 128 : Integer.parseInt(m);
        }

        public LambdaLogger getLogger() {
            return log;
        }

        public String getXrayTraceId() {
            return System.getProperty("com.amazonaws.xray.traceHeader");
        }
    }

    private static Map<?, ?> object(String json) {
        if (json == null || json.isEmpty()) {
            return null;
        }
        try {
            Object v = Json.parse(json);
            return v instanceof Map ? (Map<?, ?>) v : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static String str(Map<?, ?> m, String key) {
        Object v = m == null ? null : m.get(key);
        return v == null ? null : v.toString();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, String> strings(Object v) {
        if (!(v instanceof Map)) {
            return null;
        }
        Map<String, String> out = new LinkedHashMap<String, String>();
        for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
            out.put(String.valueOf(e.getKey()), e.getValue() == null ? null : e.getValue().toString());
        }
        return out;
    }

    static final class Cognito implements CognitoIdentity {
        private final String id;
        private final String pool;

        private Cognito(String id, String pool) {
            this.id = id;
            this.pool = pool;
        }

        static Cognito from(String json) {
            Map<?, ?> m = object(json);
            return m == null ? null : new Cognito(str(m, "cognitoIdentityId"), str(m, "cognitoIdentityPoolId"));
        }

        public String getIdentityId() {
            return id;
        }

        public String getIdentityPoolId() {
            return pool;
        }
    }

    static final class Mobile implements ClientContext, Client {
        private final Map<?, ?> client;
        private final Map<String, String> custom;
        private final Map<String, String> env;

        private Mobile(Map<?, ?> m) {
            this.client = m.get("client") instanceof Map ? (Map<?, ?>) m.get("client") : null;
            this.custom = strings(m.get("custom"));
            this.env = strings(m.get("env"));
        }

        static Mobile from(String json) {
            Map<?, ?> m = object(json);
            return m == null ? null : new Mobile(m);
        }

        public Client getClient() {
            return client == null ? null : this;
        }

        public Map<String, String> getCustom() {
            return custom;
        }

        public Map<String, String> getEnvironment() {
            return env;
        }

        public String getInstallationId() {
            return str(client, "installation_id");
        }

        public String getAppTitle() {
            return str(client, "app_title");
        }

        public String getAppVersionName() {
            return str(client, "app_version_name");
        }

        public String getAppVersionCode() {
            return str(client, "app_version_code");
        }

        public String getAppPackageName() {
            return str(client, "app_package_name");
        }
    }

    // ---- the log ----

    /**
     * The function's logger: one log event per call on the environment's standard output,
     * plain or as AWS's JSON records when the function's log format is JSON.
     */
    static final class Logger implements LambdaLogger {
        private final PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false);
        private final boolean json = "JSON".equalsIgnoreCase(System.getenv("AWS_LAMBDA_LOG_FORMAT"));
        private final LogLevel threshold = threshold();
        volatile String requestId;

        private static LogLevel threshold() {
            String level = System.getenv("AWS_LAMBDA_LOG_LEVEL");
            try {
                return level == null ? LogLevel.UNDEFINED : LogLevel.valueOf(level.toUpperCase());
            } catch (IllegalArgumentException e) {
                return LogLevel.UNDEFINED;
            }
        }

        public void log(String message) {
            log(message, LogLevel.UNDEFINED);
        }

        public void log(byte[] message) {
            log(new String(message, StandardCharsets.UTF_8), LogLevel.UNDEFINED);
        }

        public void log(byte[] message, LogLevel level) {
            log(new String(message, StandardCharsets.UTF_8), level);
        }

        public synchronized void log(String message, LogLevel level) {
            if (level != LogLevel.UNDEFINED && threshold != LogLevel.UNDEFINED && level.ordinal() < threshold.ordinal()) {
                return;
            }
            String text = String.valueOf(message);
            if (json) {
                Map<String, Object> record = new LinkedHashMap<String, Object>();
                record.put("timestamp", Instant.now().toString());
                record.put("level", level == LogLevel.UNDEFINED ? "INFO" : level.name());
                record.put("message", text);
                record.put("AWSRequestId", requestId);
                text = Json.write(record);
            }
            // One call, one log event: its inner line breaks stay inside the event.
            String body = text.endsWith("\n") ? text.substring(0, text.length() - 1) : text;
            out.print(body.replace("\r\n", "\r").replace('\n', '\r') + "\n");
            out.flush();
        }

        /** An error the runtime reports: its summary, then its stack trace. */
        void error(String summary, Throwable t) {
            StringBuilder b = new StringBuilder(summary);
            for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
                b.append(c == t ? "\n" : "\nCaused by: ").append(c.toString());
                for (String f : frames(c)) {
                    b.append("\n\tat ").append(f);
                }
            }
            log(b.toString(), LogLevel.ERROR);
        }
    }
}
