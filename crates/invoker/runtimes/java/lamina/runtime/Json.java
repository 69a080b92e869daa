package lamina.runtime;

import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Date;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * JSON text to plain values (Map, List, String, Integer/Long/BigInteger, Double/BigDecimal,
 * Boolean, null) and any value back to JSON text, as AWS's serializer writes it: a POJO's
 * properties from its getters and public fields, nulls left out.
 */
final class Json {
    private static final int MAX_DEPTH = 512;

    private final String s;
    private int i;

    private Json(String s) {
        this.s = s;
    }

    static Object parse(String text) {
        Json p = new Json(text);
        p.ws();
        Object v = p.value(0);
        p.ws();
        if (p.i != p.s.length()) {
            throw p.fail("Unexpected character");
        }
        return v;
    }

    private IllegalArgumentException fail(String what) {
        return new IllegalArgumentException(what + " at position " + i);
    }

    private void ws() {
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
                return;
            }
            i++;
        }
    }

    private Object value(int depth) {
        if (depth > MAX_DEPTH) {
            throw fail("Nesting too deep");
        }
        if (i >= s.length()) {
            throw fail("Unexpected end of input");
        }
        char c = s.charAt(i);
        switch (c) {
            case '{': {
                i++;
                Map<String, Object> m = new LinkedHashMap<String, Object>();
                ws();
                if (peek('}')) {
                    return m;
                }
                while (true) {
                    ws();
                    if (i >= s.length() || s.charAt(i) != '"') {
                        throw fail("Expected a field name");
                    }
                    String k = string();
                    ws();
                    expect(':');
                    ws();
                    m.put(k, value(depth + 1));
                    ws();
                    if (peek('}')) {
                        return m;
                    }
                    expect(',');
                }
            }
            case '[': {
                i++;
                List<Object> l = new ArrayList<Object>();
                ws();
                if (peek(']')) {
                    return l;
                }
                while (true) {
                    ws();
                    l.add(value(depth + 1));
                    ws();
                    if (peek(']')) {
                        return l;
                    }
                    expect(',');
                }
            }
            case '"':
                return string();
            case 't':
                word("true");
                return Boolean.TRUE;
            case 'f':
                word("false");
                return Boolean.FALSE;
            case 'n':
                word("null");
                return null;
            default:
                return number();
        }
    }

    private boolean peek(char c) {
        if (i < s.length() && s.charAt(i) == c) {
            i++;
            return true;
        }
        return false;
    }

    private void expect(char c) {
        if (!peek(c)) {
            throw fail("Expected '" + c + "'");
        }
    }

    private void word(String w) {
        if (!s.startsWith(w, i)) {
            throw fail("Unrecognized token");
        }
        i += w.length();
    }

    private String string() {
        i++;
        StringBuilder b = null;
        int start = i;
        while (true) {
            if (i >= s.length()) {
                throw fail("Unterminated string");
            }
            char c = s.charAt(i);
            if (c == '"') {
                String out = b == null ? s.substring(start, i) : b.append(s, start, i).toString();
                i++;
                return out;
            }
            if (c == '\\') {
                if (b == null) {
                    b = new StringBuilder();
                }
                b.append(s, start, i);
                i++;
                if (i >= s.length()) {
                    throw fail("Unterminated string");
                }
                char e = s.charAt(i++);
                switch (e) {
                    case 'n': b.append('\n'); break;
                    case 't': b.append('\t'); break;
                    case 'r': b.append('\r'); break;
                    case 'b': b.append('\b'); break;
                    case 'f': b.append('\f'); break;
                    case 'u':
                        if (i + 4 > s.length()) {
                            throw fail("Bad escape");
                        }
                        b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
                        i += 4;
                        break;
                    default: b.append(e);
                }
                start = i;
            } else {
                i++;
            }
        }
    }

    private Object number() {
        int start = i;
        boolean fraction = false;
        while (i < s.length()) {
            char c = s.charAt(i);
            if ((c >= '0' && c <= '9') || c == '-' || c == '+') {
                i++;
            } else if (c == '.' || c == 'e' || c == 'E') {
                fraction = true;
                i++;
            } else {
                break;
            }
        }
        String t = s.substring(start, i);
        if (t.isEmpty()) {
            throw fail("Unrecognized token");
        }
        try {
            if (fraction) {
                double d = Double.parseDouble(t);
                return Double.isInfinite(d) ? (Object) new BigDecimal(t) : (Object) d;
            }
            long l = Long.parseLong(t);
            if (l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE) {
                return (int) l;
            }
            return l;
        } catch (NumberFormatException e) {
            if (!fraction) {
                try {
                    return new BigInteger(t);
                } catch (NumberFormatException ignored) {
                    // reported below
                }
            }
            throw fail("Bad number");
        }
    }

    // ---- writing ----

    static String write(Object v) {
        StringBuilder b = new StringBuilder();
        write(b, v, new IdentityHashMap<Object, Boolean>(), 0);
        return b.toString();
    }

    static void quote(StringBuilder b, String s) {
        b.append('"');
        for (int k = 0; k < s.length(); k++) {
            char c = s.charAt(k);
            switch (c) {
                case '"': b.append("\\\""); break;
                case '\\': b.append("\\\\"); break;
                case '\n': b.append("\\n"); break;
                case '\r': b.append("\\r"); break;
                case '\t': b.append("\\t"); break;
                case '\b': b.append("\\b"); break;
                case '\f': b.append("\\f"); break;
                default:
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
            }
        }
        b.append('"');
    }

    private static void write(StringBuilder b, Object v, IdentityHashMap<Object, Boolean> seen, int depth) {
        if (depth > MAX_DEPTH) {
            throw new IllegalArgumentException("Direct self-reference or nesting too deep");
        }
        if (v == null) {
            b.append("null");
        } else if (v instanceof String || v instanceof Character || v instanceof Enum) {
            quote(b, v instanceof Enum ? ((Enum<?>) v).name() : v.toString());
        } else if (v instanceof Boolean) {
            b.append(v.toString());
        } else if (v instanceof Number) {
            if ((v instanceof Double && (((Double) v).isNaN() || ((Double) v).isInfinite()))
                    || (v instanceof Float && (((Float) v).isNaN() || ((Float) v).isInfinite()))) {
                quote(b, v.toString());
            } else if (v instanceof BigDecimal) {
                b.append(((BigDecimal) v).toString());
            } else {
                b.append(v.toString());
            }
        } else if (v instanceof Map) {
            b.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                if (!first) {
                    b.append(',');
                }
                first = false;
                quote(b, String.valueOf(e.getKey()));
                b.append(':');
                write(b, e.getValue(), seen, depth + 1);
            }
            b.append('}');
        } else if (v instanceof Collection) {
            b.append('[');
            boolean first = true;
            for (Object o : (Collection<?>) v) {
                if (!first) {
                    b.append(',');
                }
                first = false;
                write(b, o, seen, depth + 1);
            }
            b.append(']');
        } else if (v instanceof byte[]) {
            quote(b, Base64.getEncoder().encodeToString((byte[]) v));
        } else if (v instanceof ByteBuffer) {
            ByteBuffer buf = ((ByteBuffer) v).duplicate();
            byte[] bytes = new byte[buf.remaining()];
            buf.get(bytes);
            quote(b, Base64.getEncoder().encodeToString(bytes));
        } else if (v.getClass().isArray()) {
            b.append('[');
            int n = Array.getLength(v);
            for (int k = 0; k < n; k++) {
                if (k > 0) {
                    b.append(',');
                }
                write(b, Array.get(v, k), seen, depth + 1);
            }
            b.append(']');
        } else if (v instanceof Date) {
            b.append(((Date) v).getTime());
        } else if (v.getClass().getName().startsWith("java.time.") || v.getClass().getName().startsWith("org.joda.time.")) {
            quote(b, v.toString());
        } else {
            if (seen.put(v, Boolean.TRUE) != null) {
                throw new IllegalArgumentException("Direct self-reference leading to cycle");
            }
            b.append('{');
            boolean first = true;
            for (Map.Entry<String, Object> e : properties(v).entrySet()) {
                if (e.getValue() == null) {
                    continue;
                }
                if (!first) {
                    b.append(',');
                }
                first = false;
                quote(b, e.getKey());
                b.append(':');
                write(b, e.getValue(), seen, depth + 1);
            }
            b.append('}');
            seen.remove(v);
        }
    }

    /** A bean's readable properties, as Jackson names them: getters first, then public fields. */
    private static Map<String, Object> properties(Object bean) {
        Map<String, Object> out = new TreeMap<String, Object>(String.CASE_INSENSITIVE_ORDER);
        Class<?> c = bean.getClass();
        for (Method m : c.getMethods()) {
            if (Modifier.isStatic(m.getModifiers()) || m.getParameterTypes().length != 0
                    || m.getDeclaringClass() == Object.class || m.getReturnType() == void.class) {
                continue;
            }
            String n = m.getName();
            String name = null;
            if (n.startsWith("get") && n.length() > 3) {
                name = Binder.decapitalize(n.substring(3));
            } else if (n.startsWith("is") && n.length() > 2
                    && (m.getReturnType() == boolean.class || m.getReturnType() == Boolean.class)) {
                name = Binder.decapitalize(n.substring(2));
            }
            if (name == null || out.containsKey(name)) {
                continue;
            }
            try {
                m.setAccessible(true);
                out.put(name, m.invoke(bean));
            } catch (Exception e) {
                throw new IllegalArgumentException("Could not read property " + name + " of " + c.getName() + ": " + e);
            }
        }
        for (Field f : c.getFields()) {
            if (Modifier.isStatic(f.getModifiers()) || out.containsKey(f.getName())) {
                continue;
            }
            try {
                // A public field of a class that is not public (Jackson reads it too).
                f.setAccessible(true);
                out.put(f.getName(), f.get(bean));
            } catch (IllegalAccessException | RuntimeException e) {
                // not readable: left out
            }
        }
        // Jackson's order: properties backed by a field in the field's declaration order
        // (superclass first), then the rest.
        List<Class<?>> chain = new ArrayList<Class<?>>();
        for (Class<?> k = c; k != null && k != Object.class; k = k.getSuperclass()) {
            chain.add(0, k);
        }
        Map<String, Object> ordered = new LinkedHashMap<String, Object>();
        for (Class<?> k : chain) {
            for (Field f : k.getDeclaredFields()) {
                for (Map.Entry<String, Object> e : out.entrySet()) {
                    if (e.getKey().equalsIgnoreCase(f.getName()) && !ordered.containsKey(e.getKey())) {
                        ordered.put(e.getKey(), e.getValue());
                    }
                }
            }
        }
        for (Map.Entry<String, Object> e : out.entrySet()) {
            if (!ordered.containsKey(e.getKey())) {
                ordered.put(e.getKey(), e.getValue());
            }
        }
        return ordered;
    }
}
