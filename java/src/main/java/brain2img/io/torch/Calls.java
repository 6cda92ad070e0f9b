package brain2img.io.torch;

import brain2img.io.FormatException;
import brain2img.io.torch.Pickle.Global;
import brain2img.io.torch.Pickle.Tuple;
import brain2img.tensor.DType;

import java.math.BigInteger;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The allow-list of globals a state-dict pickle may name, and what each call means here. Nothing is looked up
 * by reflection or executed: every allowed call is one of the cases below, which only check their arguments and
 * build a {@link Map} or a {@link TorchTensor} description.
 */
final class Calls {
    static final String ORDERED_DICT = "collections.OrderedDict";
    static final String REBUILD_TENSOR_V2 = "torch._utils._rebuild_tensor_v2";
    static final String REBUILD_TENSOR = "torch._utils._rebuild_tensor";
    static final String REBUILD_PARAMETER = "torch._utils._rebuild_parameter";
    static final String REBUILD_PARAMETER_WITH_STATE = "torch._utils._rebuild_parameter_with_state";
    static final String REBUILD_FROM_TYPE_V2 = "torch._tensor._rebuild_from_type_v2";
    /** Tensor classes, only meaningful as the type argument of {@code _rebuild_from_type_v2}. */
    private static final Set<String> TENSOR_TYPES = Set.of("torch.Tensor", "torch.nn.parameter.Parameter");

    private static final Set<String> FUNCTIONS = Set.of(ORDERED_DICT, REBUILD_TENSOR_V2, REBUILD_TENSOR,
            REBUILD_PARAMETER, REBUILD_PARAMETER_WITH_STATE, REBUILD_FROM_TYPE_V2);

    /** A legacy typed storage class ({@code torch.FloatStorage}, …); dtype null where this engine has none. */
    record StorageType(String name, DType dtype, String torchDtype) {}

    /**
     * Storage classes by name. Booleans are read as u8 (torch stores them one byte each, 0 or 1); int8, int16 and
     * complex storages are named in the error when used.
     */
    private static final Map<String, StorageType> STORAGES = storages();

    private static Map<String, StorageType> storages() {
        Map<String, StorageType> m = new LinkedHashMap<>();
        Object[][] table = {
                {"FloatStorage", DType.F32, "float32"}, {"HalfStorage", DType.F16, "float16"},
                {"BFloat16Storage", DType.BF16, "bfloat16"}, {"DoubleStorage", DType.F64, "float64"},
                {"LongStorage", DType.I64, "int64"}, {"IntStorage", DType.I32, "int32"},
                {"ByteStorage", DType.U8, "uint8"}, {"BoolStorage", DType.U8, "bool"},
                {"CharStorage", null, "int8"}, {"ShortStorage", null, "int16"},
                {"ComplexFloatStorage", null, "complex64"}, {"ComplexDoubleStorage", null, "complex128"}};
        for (Object[] row : table) {
            String name = "torch." + row[0];
            m.put(name, new StorageType(name, (DType) row[1], (String) row[2]));
        }
        return m;
    }

    private Calls() {}

    static boolean isAllowed(String name) {
        return FUNCTIONS.contains(name) || TENSOR_TYPES.contains(name) || STORAGES.containsKey(name);
    }

    /** The value a global stands for when it is not called: a storage type; null for functions. */
    static Object constant(String name) {
        return STORAGES.get(name);
    }

    /** Applies an allowed function to its arguments. */
    static Object call(String name, Tuple args) {
        return switch (name) {
            case ORDERED_DICT -> orderedDict(args);
            case REBUILD_TENSOR_V2 -> {
                if (args.size() < 6 || args.size() > 7) throw arity(name, args, "6 or 7");
                yield rebuild(args);
            }
            case REBUILD_TENSOR -> {
                if (args.size() != 4) throw arity(name, args, "4");
                yield rebuild(args);
            }
            case REBUILD_PARAMETER, REBUILD_PARAMETER_WITH_STATE -> {
                if (args.size() != (name.equals(REBUILD_PARAMETER) ? 3 : 4)) throw arity(name, args, "3 or 4");
                if (!(args.get(0) instanceof TorchTensor t)) throw new FormatException(name + " of " + Pickle.describe(args.get(0)));
                yield t;
            }
            case REBUILD_FROM_TYPE_V2 -> {
                if (args.size() != 4) throw arity(name, args, "4");
                if (!(args.get(0) instanceof Global f) || f.name().equals(REBUILD_FROM_TYPE_V2)) {
                    throw new FormatException(name + " with function " + Pickle.describe(args.get(0)));
                }
                if (!(args.get(1) instanceof Global type) || !TENSOR_TYPES.contains(type.name())) {
                    throw new FormatException(name + " with type " + Pickle.describe(args.get(1)) + " (only torch.Tensor or Parameter)");
                }
                if (!(args.get(2) instanceof Tuple inner)) throw new FormatException(name + " with arguments " + Pickle.describe(args.get(2)));
                Object t = call(f.name(), inner);
                if (!(t instanceof TorchTensor)) throw new FormatException(name + " of " + f.name() + " gave " + Pickle.describe(t));
                yield t;
            }
            default -> throw new FormatException("cannot call " + name);
        };
    }

    private static FormatException arity(String name, Tuple args, String expected) {
        return new FormatException(name + " called with " + args.size() + " arguments, expected " + expected);
    }

    /** {@code OrderedDict()} or {@code OrderedDict([(k, v), ...])}. */
    private static Map<Object, Object> orderedDict(Tuple args) {
        Map<Object, Object> m = new LinkedHashMap<>();
        if (args.size() == 0) return m;
        if (args.size() == 1 && args.get(0) instanceof List<?> pairs) {
            for (Object p : pairs) {
                if (!(p instanceof Tuple t) || t.size() != 2) throw new FormatException("OrderedDict item is not a pair");
                m.put(t.get(0), t.get(1));
            }
            return m;
        }
        throw new FormatException("OrderedDict called with " + args.size() + " arguments");
    }

    /** {@code (storage, storage_offset, size, stride, ...)}: the layout is checked against the storage here. */
    private static TorchTensor rebuild(Tuple args) {
        if (!(args.get(0) instanceof Storage storage)) {
            throw new FormatException("tensor rebuilt from " + Pickle.describe(args.get(0)) + ", not a storage");
        }
        long offset = nonNegative(args.get(1), "storage offset");
        long[] size = longs(args.get(2), "size");
        long[] stride = longs(args.get(3), "stride");
        if (size.length != stride.length) {
            throw new FormatException("tensor size has " + size.length + " dimensions but stride " + stride.length);
        }
        return TorchTensor.of(storage, offset, size, stride);
    }

    private static long[] longs(Object o, String what) {
        if (!(o instanceof Tuple t)) throw new FormatException("tensor " + what + " is " + Pickle.describe(o) + ", not a tuple");
        if (t.size() > 64) throw new FormatException("tensor " + what + " has " + t.size() + " dimensions");
        long[] out = new long[t.size()];
        for (int i = 0; i < out.length; i++) out[i] = nonNegative(t.get(i), what);
        return out;
    }

    private static long nonNegative(Object o, String what) {
        if (o instanceof Long v && v >= 0) return v;
        if (o instanceof BigInteger || o instanceof Long) throw new FormatException("tensor " + what + " " + o + " is out of range");
        throw new FormatException("tensor " + what + " is " + Pickle.describe(o) + ", not an integer");
    }
}
