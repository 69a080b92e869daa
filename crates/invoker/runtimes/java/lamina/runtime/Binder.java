package lamina.runtime;

import java.lang.reflect.Array;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Plain JSON values to a handler's declared input type, as AWS's serializer binds them:
 * property names matched without regard to case (so the events' {@code Records} fill
 * {@code setRecords}), unknown properties ignored, a single value accepted where a list is
 * declared, byte arrays and {@code ByteBuffer}s from base64.
 */
final class Binder {
    private Binder() {
    }

    /** One settable property of a bean class. */
    private static final class Property {
        final Method setter;
        final Field field;

        Property(Method setter, Field field) {
            this.setter = setter;
            this.field = field;
        }

        Type type() {
            return setter != null ? setter.getGenericParameterTypes()[0] : field.getGenericType();
        }

        void set(Object bean, Object value) throws Exception {
            if (setter != null) {
                setter.invoke(bean, value);
            } else {
                field.set(bean, value);
            }
        }
    }

    private static final Map<Class<?>, Map<String, Property>> PROPERTIES = new ConcurrentHashMap<Class<?>, Map<String, Property>>();

    /** Jackson's property name for an accessor's suffix: leading capitals lowered. */
    static String decapitalize(String name) {
        char[] c = name.toCharArray();
        for (int k = 0; k < c.length && Character.isUpperCase(c[k]); k++) {
            c[k] = Character.toLowerCase(c[k]);
        }
        return new String(c);
    }

    static Object bind(Object json, Type type) {
        try {
            return convert(json, type, 0);
        } catch (BindException e) {
            throw e;
        } catch (Exception e) {
            throw new BindException(e.toString(), e);
        }
    }

    static final class BindException extends RuntimeException {
        private static final long serialVersionUID = 1L;
        BindException(String message, Throwable cause) {
            super(message, cause);
        }
    }

    static Class<?> raw(Type type) {
        if (type instanceof Class) {
            return (Class<?>) type;
        }
        if (type instanceof ParameterizedType) {
            return (Class<?>) ((ParameterizedType) type).getRawType();
        }
        if (type instanceof GenericArrayType) {
            return Array.newInstance(raw(((GenericArrayType) type).getGenericComponentType()), 0).getClass();
        }
        if (type instanceof WildcardType) {
            return raw(((WildcardType) type).getUpperBounds()[0]);
        }
        if (type instanceof TypeVariable) {
            Type[] bounds = ((TypeVariable<?>) type).getBounds();
            return bounds.length > 0 ? raw(bounds[0]) : Object.class;
        }
        return Object.class;
    }

    private static Type arg(Type type, int n) {
        if (type instanceof ParameterizedType) {
            Type[] args = ((ParameterizedType) type).getActualTypeArguments();
            if (n < args.length) {
                return args[n];
            }
        }
        return Object.class;
    }

    private static Object convert(Object v, Type type, int depth) throws Exception {
        Class<?> c = raw(type);
        if (c == Object.class) {
            return v;
        }
        if (v == null) {
            if (c.isPrimitive()) {
                return primitiveDefault(c);
            }
            return null;
        }
        if (c == String.class || c == CharSequence.class) {
            if (v instanceof Map || v instanceof List) {
                throw new BindException("Cannot deserialize value of type `java.lang.String` from "
                        + (v instanceof Map ? "Object" : "Array") + " value", null);
            }
            return v.toString();
        }
        if (c == boolean.class || c == Boolean.class) {
            if (v instanceof Boolean) {
                return v;
            }
            if (v instanceof String) {
                return Boolean.valueOf((String) v);
            }
            if (v instanceof Number) {
                return ((Number) v).intValue() != 0;
            }
        }
        if (c.isPrimitive() || Number.class.isAssignableFrom(c)) {
            return number(v, c);
        }
        if (c == char.class || c == Character.class) {
            String t = v.toString();
            return t.isEmpty() ? '\0' : t.charAt(0);
        }
        if (c.isEnum()) {
            String name = v.toString();
            for (Object constant : c.getEnumConstants()) {
                if (((Enum<?>) constant).name().equals(name)) {
                    return constant;
                }
            }
            for (Object constant : c.getEnumConstants()) {
                if (((Enum<?>) constant).name().equalsIgnoreCase(name)) {
                    return constant;
                }
            }
            throw new BindException("Cannot deserialize value of type `" + c.getName() + "` from String \"" + name
                    + "\": not one of the values accepted for Enum class", null);
        }
        if (c == byte[].class && v instanceof String) {
            return Base64.getMimeDecoder().decode((String) v);
        }
        if (c == ByteBuffer.class && v instanceof String) {
            return ByteBuffer.wrap(Base64.getMimeDecoder().decode((String) v));
        }
        if (c == Date.class) {
            if (v instanceof Number) {
                return new Date(((Number) v).longValue());
            }
            return Date.from(java.time.Instant.parse(v.toString()));
        }
        if (depth > 256) {
            throw new BindException("Nesting too deep", null);
        }
        if (Map.class.isAssignableFrom(c)) {
            if (!(v instanceof Map)) {
                throw new BindException("Cannot deserialize value of type `" + c.getName() + "` from non-object value", null);
            }
            Map<Object, Object> out = newMap(c);
            Type keyType = arg(type, 0);
            Type valueType = arg(type, 1);
            for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
                out.put(convert(e.getKey(), keyType, depth + 1), convert(e.getValue(), valueType, depth + 1));
            }
            return out;
        }
        if (Collection.class.isAssignableFrom(c) || c.isArray()) {
            List<?> items = v instanceof List ? (List<?>) v : java.util.Collections.singletonList(v);
            if (c.isArray()) {
                Type component = type instanceof GenericArrayType ? ((GenericArrayType) type).getGenericComponentType()
                        : c.getComponentType();
                Object array = Array.newInstance(raw(component), items.size());
                for (int k = 0; k < items.size(); k++) {
                    Array.set(array, k, convert(items.get(k), component, depth + 1));
                }
                return array;
            }
            Collection<Object> out = newCollection(c);
            for (Object item : items) {
                out.add(convert(item, arg(type, 0), depth + 1));
            }
            return out;
        }
        if (!(v instanceof Map)) {
            Object made = fromScalar(c, v);
            if (made != null) {
                return made;
            }
            throw new BindException("Cannot construct instance of `" + c.getName() + "` from " + v.getClass().getSimpleName()
                    + " value", null);
        }
        return bean((Map<?, ?>) v, c, type, depth);
    }

    private static Object primitiveDefault(Class<?> c) {
        if (c == boolean.class) {
            return false;
        }
        if (c == char.class) {
            return '\0';
        }
        return number(0, c);
    }

    private static Object number(Object v, Class<?> c) {
        BigDecimal d;
        if (v instanceof Number) {
            d = v instanceof BigDecimal ? (BigDecimal) v : new BigDecimal(v.toString());
        } else {
            try {
                d = new BigDecimal(v.toString().trim());
            } catch (NumberFormatException e) {
                throw new BindException("Cannot deserialize value of type `" + c.getName() + "` from String \"" + v
                        + "\": not a valid representation", null);
            }
        }
        if (c == int.class || c == Integer.class) {
            return d.intValue();
        }
        if (c == long.class || c == Long.class) {
            return d.longValue();
        }
        if (c == double.class || c == Double.class) {
            return d.doubleValue();
        }
        if (c == float.class || c == Float.class) {
            return d.floatValue();
        }
        if (c == short.class || c == Short.class) {
            return d.shortValue();
        }
        if (c == byte.class || c == Byte.class) {
            return d.byteValue();
        }
        if (c == BigInteger.class) {
            return d.toBigInteger();
        }
        if (c == BigDecimal.class) {
            return d;
        }
        return v instanceof Number ? v : d;
    }

    @SuppressWarnings("unchecked")
    private static Map<Object, Object> newMap(Class<?> c) throws Exception {
        if (!c.isInterface() && !Modifier.isAbstract(c.getModifiers())) {
            return (Map<Object, Object>) c.getDeclaredConstructor().newInstance();
        }
        if (SortedMap.class.isAssignableFrom(c)) {
            return new TreeMap<Object, Object>();
        }
        if (java.util.concurrent.ConcurrentMap.class.isAssignableFrom(c)) {
            return new ConcurrentHashMap<Object, Object>();
        }
        return new LinkedHashMap<Object, Object>();
    }

    @SuppressWarnings("unchecked")
    private static Collection<Object> newCollection(Class<?> c) throws Exception {
        if (!c.isInterface() && !Modifier.isAbstract(c.getModifiers())) {
            return (Collection<Object>) c.getDeclaredConstructor().newInstance();
        }
        if (SortedSet.class.isAssignableFrom(c)) {
            return new TreeSet<Object>();
        }
        if (Set.class.isAssignableFrom(c)) {
            return new LinkedHashSet<Object>();
        }
        return new ArrayList<Object>();
    }

    /** A value type made from a string or number: {@code parse}, {@code valueOf} or a constructor. */
    private static Object fromScalar(Class<?> c, Object v) {
        String text = v.toString();
        String[] factories = {"parse", "valueOf", "of", "fromString"};
        for (String name : factories) {
            for (Class<?> p : new Class<?>[] {String.class, CharSequence.class, Object.class}) {
                try {
                    Method m = c.getMethod(name, p);
                    if (Modifier.isStatic(m.getModifiers()) && c.isAssignableFrom(m.getReturnType())) {
                        return m.invoke(null, text);
                    }
                } catch (NoSuchMethodException e) {
                    // try the next
                } catch (Exception e) {
                    throw new BindException("Cannot deserialize value of type `" + c.getName() + "` from \"" + text + "\": "
                            + e, e);
                }
            }
        }
        for (Class<?> p : new Class<?>[] {String.class, Object.class}) {
            try {
                Constructor<?> k = c.getConstructor(p);
                return k.newInstance(v instanceof Number && p == Object.class ? v : text);
            } catch (NoSuchMethodException e) {
                // try the next
            } catch (Exception e) {
                throw new BindException("Cannot construct instance of `" + c.getName() + "`: " + e, e);
            }
        }
        return null;
    }

    private static Object bean(Map<?, ?> json, Class<?> c, Type type, int depth) throws Exception {
        if (c.isInterface() || Modifier.isAbstract(c.getModifiers())) {
            throw new BindException("Cannot construct instance of `" + c.getName()
                    + "` (no Creators, like default constructor, exist): abstract types either need to be mapped to concrete types",
                    null);
        }
        Constructor<?> k;
        try {
            k = c.getDeclaredConstructor();
        } catch (NoSuchMethodException e) {
            throw new BindException("Cannot construct instance of `" + c.getName()
                    + "` (no Creators, like default constructor, exist): cannot deserialize from Object value", null);
        }
        k.setAccessible(true);
        Object bean = k.newInstance();
        Map<String, Property> props = properties(c);
        for (Map.Entry<?, ?> e : json.entrySet()) {
            Property p = props.get(String.valueOf(e.getKey()).toLowerCase(Locale.ROOT));
            if (p == null) {
                continue;
            }
            p.set(bean, convert(e.getValue(), resolve(p.type(), type, c), depth + 1));
        }
        return bean;
    }

    /** A property's type with the bean's own type arguments substituted. */
    private static Type resolve(Type t, Type owner, Class<?> c) {
        if (t instanceof TypeVariable && owner instanceof ParameterizedType) {
            TypeVariable<?>[] vars = c.getTypeParameters();
            for (int n = 0; n < vars.length; n++) {
                if (vars[n].getName().equals(((TypeVariable<?>) t).getName())) {
                    return ((ParameterizedType) owner).getActualTypeArguments()[n];
                }
            }
        }
        return t;
    }

    /** Settable properties by lower-cased name: setters, then non-static, non-final fields. */
    private static Map<String, Property> properties(Class<?> c) {
        Map<String, Property> cached = PROPERTIES.get(c);
        if (cached != null) {
            return cached;
        }
        Map<String, Property> out = new HashMap<String, Property>();
        for (Method m : c.getMethods()) {
            String n = m.getName();
            if (n.length() > 3 && n.startsWith("set") && m.getParameterTypes().length == 1
                    && !Modifier.isStatic(m.getModifiers())) {
                String key = n.substring(3).toLowerCase(Locale.ROOT);
                if (!out.containsKey(key)) {
                    out.put(key, new Property(m, null));
                }
            }
        }
        for (Class<?> k = c; k != null && k != Object.class; k = k.getSuperclass()) {
            for (Field f : k.getDeclaredFields()) {
                int mod = f.getModifiers();
                if (Modifier.isStatic(mod) || Modifier.isFinal(mod) || Modifier.isTransient(mod) || f.isSynthetic()) {
                    continue;
                }
                String key = f.getName().toLowerCase(Locale.ROOT);
                if (!out.containsKey(key) && (Modifier.isPublic(mod) || hasGetter(c, f.getName()))) {
                    f.setAccessible(true);
                    out.put(key, new Property(null, f));
                }
            }
        }
        PROPERTIES.put(c, out);
        return out;
    }

    private static boolean hasGetter(Class<?> c, String field) {
        String cap = Character.toUpperCase(field.charAt(0)) + field.substring(1);
        for (String prefix : new String[] {"get", "is"}) {
            try {
                c.getMethod(prefix + cap);
                return true;
            } catch (NoSuchMethodException e) {
                // try the next
            }
        }
        return false;
    }
}
