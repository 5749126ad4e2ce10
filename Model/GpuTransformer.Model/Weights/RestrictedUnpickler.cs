using System.Buffers.Binary;
using System.Text;

namespace GpuTransformer.Model.Weights;

/// <summary>
/// Reads the <c>data.pkl</c> that <c>torch.save</c> writes, interpreting only the opcodes a state dict needs and
/// resolving <c>GLOBAL</c> against a fixed allow-list. Nothing is ever called or imported: allowed globals are
/// markers that REDUCE turns into plain descriptions (dictionaries, storage and tensor references).
/// </summary>
internal sealed class RestrictedUnpickler
{
    private const int MaxStackDepth = 1 << 20;

    private static readonly Dictionary<string, TensorDType?> StorageTypes = new(StringComparer.Ordinal)
    {
        ["FloatStorage"] = TensorDType.F32,
        ["HalfStorage"] = TensorDType.F16,
        ["BFloat16Storage"] = TensorDType.BF16,
        ["DoubleStorage"] = TensorDType.F64,
        ["LongStorage"] = TensorDType.I64,
        ["IntStorage"] = TensorDType.I32,
        ["ShortStorage"] = TensorDType.I16,
        ["CharStorage"] = TensorDType.I8,
        ["ByteStorage"] = TensorDType.U8,
        ["BoolStorage"] = TensorDType.Bool,

        // Recognised so that the error names a dtype instead of calling the global unknown.
        ["ComplexFloatStorage"] = null,
        ["ComplexDoubleStorage"] = null,
        ["QInt8Storage"] = null,
        ["QUInt8Storage"] = null,
        ["QInt32Storage"] = null,
        ["QUInt4x2Storage"] = null,
        ["QUInt2x4Storage"] = null,
    };

    private readonly string _file;
    private readonly byte[] _data;
    private readonly List<object?> _stack = [];
    private readonly List<int> _marks = [];
    private readonly Dictionary<long, object?> _memo = [];
    private int _position;

    private RestrictedUnpickler(string file, byte[] data)
    {
        _file = file;
        _data = data;
    }

    /// <summary>Unpickles <paramref name="data"/>; <paramref name="file"/> names it in errors.</summary>
    public static object? Load(string file, byte[] data) => new RestrictedUnpickler(file, data).Run();

    private object? Run()
    {
        while (true)
        {
            if (_position >= _data.Length)
            {
                throw Error("the pickle ends without a STOP opcode (truncated).");
            }

            int opcodeOffset = _position;
            byte opcode = _data[_position++];
            switch (opcode)
            {
                case 0x80: // PROTO
                    byte protocol = ReadByte();
                    if (protocol > 5)
                    {
                        throw Error($"pickle protocol {protocol} is not supported.");
                    }

                    break;
                case 0x95: // FRAME: framing only groups bytes; the content is the same opcode stream.
                    ReadBytes(8);
                    break;
                case (byte)'}': // EMPTY_DICT
                    Push(new PickleDict());
                    break;
                case (byte)']': // EMPTY_LIST
                    Push(new List<object?>());
                    break;
                case (byte)')': // EMPTY_TUPLE
                    Push(Array.Empty<object?>());
                    break;
                case (byte)'(': // MARK
                    _marks.Add(_stack.Count);
                    break;
                case (byte)'0': // POP
                    Pop();
                    break;
                case (byte)'1': // POP_MARK
                    PopMark();
                    break;
                case (byte)'2': // DUP
                    Push(Peek());
                    break;
                case (byte)'q': // BINPUT
                    _memo[ReadByte()] = Peek();
                    break;
                case (byte)'r': // LONG_BINPUT
                    _memo[ReadUInt32()] = Peek();
                    break;
                case 0x94: // MEMOIZE
                    _memo[_memo.Count] = Peek();
                    break;
                case (byte)'h': // BINGET
                    Push(GetMemo(ReadByte()));
                    break;
                case (byte)'j': // LONG_BINGET
                    Push(GetMemo(ReadUInt32()));
                    break;
                case (byte)'J': // BININT
                    Push((long)BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4)));
                    break;
                case (byte)'K': // BININT1
                    Push((long)ReadByte());
                    break;
                case (byte)'M': // BININT2
                    Push((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2)));
                    break;
                case 0x8A: // LONG1
                    Push(ReadLong(ReadByte()));
                    break;
                case 0x8B: // LONG4
                    Push(ReadLong(ReadUInt32()));
                    break;
                case (byte)'N': // NONE
                    Push(null);
                    break;
                case 0x88: // NEWTRUE
                    Push(true);
                    break;
                case 0x89: // NEWFALSE
                    Push(false);
                    break;
                case (byte)'G': // BINFLOAT
                    Push(BinaryPrimitives.ReadDoubleBigEndian(ReadBytes(8)));
                    break;
                case (byte)'X': // BINUNICODE
                    Push(ReadUtf8(ReadUInt32()));
                    break;
                case 0x8C: // SHORT_BINUNICODE
                    Push(ReadUtf8(ReadByte()));
                    break;
                case 0x8D: // BINUNICODE8
                    Push(ReadUtf8(ReadUInt64()));
                    break;
                case (byte)'T': // BINSTRING
                    Push(Encoding.Latin1.GetString(ReadBytes(ReadUInt32())));
                    break;
                case (byte)'U': // SHORT_BINSTRING
                    Push(Encoding.Latin1.GetString(ReadBytes(ReadByte())));
                    break;
                case (byte)'B': // BINBYTES
                    Push(ReadBytes(ReadUInt32()).ToArray());
                    break;
                case (byte)'C': // SHORT_BINBYTES
                    Push(ReadBytes(ReadByte()).ToArray());
                    break;
                case (byte)'t': // TUPLE
                    Push(PopMark().ToArray());
                    break;
                case 0x85: // TUPLE1
                    Push(new[] { Pop() });
                    break;
                case 0x86: // TUPLE2
                {
                    object? second = Pop();
                    object? first = Pop();
                    Push(new[] { first, second });
                    break;
                }

                case 0x87: // TUPLE3
                {
                    object? third = Pop();
                    object? second = Pop();
                    object? first = Pop();
                    Push(new[] { first, second, third });
                    break;
                }

                case (byte)'a': // APPEND
                {
                    object? item = Pop();
                    PeekAs<List<object?>>("APPEND").Add(item);
                    break;
                }

                case (byte)'e': // APPENDS
                {
                    List<object?> items = PopMark();
                    PeekAs<List<object?>>("APPENDS").AddRange(items);
                    break;
                }

                case (byte)'s': // SETITEM
                {
                    object? value = Pop();
                    object? key = Pop();
                    SetItem(PeekAs<PickleDict>("SETITEM"), key, value);
                    break;
                }

                case (byte)'u': // SETITEMS
                {
                    List<object?> items = PopMark();
                    if (items.Count % 2 != 0)
                    {
                        throw Error($"SETITEMS at offset {opcodeOffset} has an odd number of items.");
                    }

                    PickleDict dict = PeekAs<PickleDict>("SETITEMS");
                    for (int i = 0; i < items.Count; i += 2)
                    {
                        SetItem(dict, items[i], items[i + 1]);
                    }

                    break;
                }

                case (byte)'c': // GLOBAL
                {
                    string module = ReadLine();
                    string name = ReadLine();
                    Push(ResolveGlobal(module, name));
                    break;
                }

                case 0x93: // STACK_GLOBAL
                {
                    object? name = Pop();
                    object? module = Pop();
                    if (module is not string moduleName || name is not string globalName)
                    {
                        throw Error($"STACK_GLOBAL at offset {opcodeOffset} does not name a module and a global.");
                    }

                    Push(ResolveGlobal(moduleName, globalName));
                    break;
                }

                case (byte)'Q': // BINPERSID
                    Push(PersistentLoad(Pop()));
                    break;
                case (byte)'R': // REDUCE
                {
                    object? arguments = Pop();
                    object? callable = Pop();
                    Push(Reduce(callable, arguments, opcodeOffset));
                    break;
                }

                case (byte)'b': // BUILD
                {
                    object? state = Pop();
                    Build(Peek(), state, opcodeOffset);
                    break;
                }

                case (byte)'.': // STOP
                    if (_stack.Count != 1)
                    {
                        throw Error($"STOP leaves {_stack.Count} values on the stack instead of one.");
                    }

                    return _stack[0];
                default:
                    throw Error($"unsupported pickle opcode 0x{opcode:X2} at offset {opcodeOffset}; a torch state dict does not need it.");
            }
        }
    }

    private object ResolveGlobal(string module, string name)
    {
        string qualified = module + "." + name;
        switch (qualified)
        {
            case "collections.OrderedDict":
            case "torch._utils._rebuild_tensor_v2":
            case "torch._utils._rebuild_parameter":
            case "torch._utils._rebuild_parameter_with_state":
                return new PickleGlobal(qualified);
        }

        if (module == "torch" && StorageTypes.TryGetValue(name, out TensorDType? dtype))
        {
            return new StorageType(name, dtype);
        }

        throw new ModelFormatException(
            _file,
            "global " + qualified,
            $"the pickle refers to '{qualified}', which is not on the allow-list of tensor-rebuild globals; "
            + "the file is refused and nothing in it is executed.");
    }

    private StorageRef PersistentLoad(object? pid)
    {
        if (pid is not object?[] { Length: 5 } tuple || tuple[0] is not "storage")
        {
            throw Error("a persistent id is not a ('storage', type, key, location, numel) tuple.");
        }

        if (tuple[1] is not StorageType storageType)
        {
            throw Error("a persistent id does not name a torch storage type.");
        }

        if (tuple[2] is not string key || key.Length == 0 || key.Contains('/') || key.Contains('\\') || key.Contains(".."))
        {
            throw Error($"storage key {Describe(tuple[2])} is not a plain entry name.");
        }

        if (tuple[4] is not long numel || numel < 0)
        {
            throw Error($"storage '{key}' has element count {Describe(tuple[4])}, not a non-negative integer.");
        }

        return new StorageRef(storageType, key, numel);
    }

    private object Reduce(object? callable, object? arguments, int offset)
    {
        if (callable is not PickleGlobal global)
        {
            throw Error($"REDUCE at offset {offset} calls {Describe(callable)}, which is not callable here.");
        }

        if (arguments is not object?[] args)
        {
            throw Error($"REDUCE at offset {offset} has arguments {Describe(arguments)} instead of a tuple.");
        }

        switch (global.Name)
        {
            case "collections.OrderedDict":
                return MakeOrderedDict(args, offset);
            case "torch._utils._rebuild_tensor_v2":
                return RebuildTensor(args, offset);
            default:
                // _rebuild_parameter(data, requires_grad, hooks[, state]): a parameter is its data tensor.
                if (args.Length < 3 || args[0] is not TensorRef tensor)
                {
                    throw Error($"{global.Name} at offset {offset} does not wrap a tensor.");
                }

                return tensor;
        }
    }

    private PickleDict MakeOrderedDict(object?[] args, int offset)
    {
        var dict = new PickleDict();
        if (args.Length == 0)
        {
            return dict;
        }

        if (args.Length != 1 || args[0] is not List<object?> pairs)
        {
            throw Error($"OrderedDict at offset {offset} has unexpected arguments.");
        }

        foreach (object? pair in pairs)
        {
            if (pair is not object?[] { Length: 2 } keyValue)
            {
                throw Error($"OrderedDict at offset {offset} has an item that is not a (key, value) pair.");
            }

            SetItem(dict, keyValue[0], keyValue[1]);
        }

        return dict;
    }

    private TensorRef RebuildTensor(object?[] args, int offset)
    {
        // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
        if (args.Length is < 6 or > 7 || args[0] is not StorageRef storage)
        {
            throw Error($"_rebuild_tensor_v2 at offset {offset} does not have (storage, offset, size, stride, ...) arguments.");
        }

        if (args[1] is not long storageOffset || storageOffset < 0)
        {
            throw Error($"_rebuild_tensor_v2 at offset {offset} has storage offset {Describe(args[1])}.");
        }

        int[] sizes = ReadIntegerTuple(args[2], "size", offset, int.MaxValue).Select(v => (int)v).ToArray();
        long[] strides = ReadIntegerTuple(args[3], "stride", offset, long.MaxValue);
        if (strides.Length != sizes.Length)
        {
            throw Error($"_rebuild_tensor_v2 at offset {offset} has {sizes.Length} sizes but {strides.Length} strides.");
        }

        return new TensorRef(storage, storageOffset, sizes, strides);
    }

    private long[] ReadIntegerTuple(object? value, string what, int offset, long maximum)
    {
        if (value is not object?[] items)
        {
            throw Error($"_rebuild_tensor_v2 at offset {offset} has a {what} that is not a tuple.");
        }

        var result = new long[items.Length];
        for (int i = 0; i < items.Length; i++)
        {
            if (items[i] is not long number || number < 0 || number > maximum)
            {
                throw Error($"_rebuild_tensor_v2 at offset {offset} has {what}[{i}] = {Describe(items[i])}.");
            }

            result[i] = number;
        }

        return result;
    }

    private void Build(object? target, object? state, int offset)
    {
        // torch pickles a state dict's _metadata (and a parameter's Python attributes) through BUILD; neither affects
        // tensor values, so the state is dropped.
        if (target is PickleDict or TensorRef)
        {
            return;
        }

        throw Error($"BUILD at offset {offset} targets {Describe(target)}; only dictionaries and tensors accept state here.");
    }

    private void SetItem(PickleDict dict, object? key, object? value)
    {
        if (key is not (string or long or bool or double))
        {
            throw Error($"a dictionary key is {Describe(key)}; a state dict is keyed by strings.");
        }

        dict.Set(key, value);
    }

    private void Push(object? value)
    {
        if (_stack.Count >= MaxStackDepth)
        {
            throw Error("the pickle stack grows beyond any plausible state dict.");
        }

        _stack.Add(value);
    }

    private object? Pop()
    {
        if (_stack.Count == 0 || (_marks.Count > 0 && _marks[^1] == _stack.Count))
        {
            throw Error($"stack underflow at offset {_position - 1}.");
        }

        object? value = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private object? Peek()
    {
        if (_stack.Count == 0)
        {
            throw Error($"stack underflow at offset {_position - 1}.");
        }

        return _stack[^1];
    }

    private T PeekAs<T>(string opcodeName)
        where T : class =>
        Peek() as T ?? throw Error($"{opcodeName} at offset {_position - 1} targets {Describe(Peek())}.");

    private List<object?> PopMark()
    {
        if (_marks.Count == 0)
        {
            throw Error($"an opcode at offset {_position - 1} needs a MARK that is not there.");
        }

        int start = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        List<object?> items = _stack.GetRange(start, _stack.Count - start);
        _stack.RemoveRange(start, _stack.Count - start);
        return items;
    }

    private object? GetMemo(long index) =>
        _memo.TryGetValue(index, out object? value) ? value : throw Error($"memo entry {index} is read before it is written.");

    private byte ReadByte() => ReadBytes(1)[0];

    private uint ReadUInt32() => BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4));

    private ulong ReadUInt64() => BinaryPrimitives.ReadUInt64LittleEndian(ReadBytes(8));

    private ReadOnlySpan<byte> ReadBytes(ulong count)
    {
        if (count > (ulong)(_data.Length - _position))
        {
            throw Error($"the pickle ends inside an opcode at offset {_position} (truncated).");
        }

        var span = new ReadOnlySpan<byte>(_data, _position, (int)count);
        _position += (int)count;
        return span;
    }

    private string ReadUtf8(ulong length)
    {
        try
        {
            return new UTF8Encoding(false, true).GetString(ReadBytes(length));
        }
        catch (DecoderFallbackException e)
        {
            throw new ModelFormatException(_file, "data.pkl", $"a string at offset {_position} is not valid UTF-8.", e);
        }
    }

    private string ReadLine()
    {
        int end = Array.IndexOf(_data, (byte)'\n', _position);
        if (end < 0)
        {
            throw Error($"GLOBAL at offset {_position - 1} is not terminated (truncated).");
        }

        string line = Encoding.ASCII.GetString(_data, _position, end - _position);
        _position = end + 1;
        return line;
    }

    private long ReadLong(ulong length)
    {
        ReadOnlySpan<byte> bytes = ReadBytes(length);
        if (bytes.Length > 8)
        {
            throw Error($"an integer of {bytes.Length} bytes does not fit in 64 bits.");
        }

        long value = 0;
        for (int i = bytes.Length - 1; i >= 0; i--)
        {
            value = (value << 8) | bytes[i];
        }

        if (bytes.Length is > 0 and < 8 && (bytes[^1] & 0x80) != 0)
        {
            value -= 1L << (8 * bytes.Length);
        }

        return value;
    }

    private ModelFormatException Error(string problem) => new(_file, "data.pkl", problem);

    private static string Describe(object? value) => value switch
    {
        null => "None",
        string s => $"'{s}'",
        PickleGlobal g => g.Name,
        _ => value.GetType().Name,
    };

    /// <summary>An allow-listed callable global, recorded by name only.</summary>
    internal sealed record PickleGlobal(string Name);

    /// <summary>A <c>torch.*Storage</c> type; <see cref="DType"/> is null for types with no plain element type.</summary>
    internal sealed record StorageType(string Name, TensorDType? DType);

    /// <summary>A storage saved as zip entry <c>data/Key</c> holding <see cref="Numel"/> elements.</summary>
    internal sealed record StorageRef(StorageType Type, string Key, long Numel);

    /// <summary>A tensor view onto a storage, in elements.</summary>
    internal sealed record TensorRef(StorageRef Storage, long Offset, int[] Sizes, long[] Strides);

    /// <summary>A dict or OrderedDict in insertion order; a repeated key keeps its first position, as in Python.</summary>
    internal sealed class PickleDict
    {
        private readonly Dictionary<object, int> _index = [];

        public List<KeyValuePair<object, object?>> Items { get; } = [];

        public void Set(object key, object? value)
        {
            if (_index.TryGetValue(key, out int at))
            {
                Items[at] = new(key, value);
            }
            else
            {
                _index[key] = Items.Count;
                Items.Add(new(key, value));
            }
        }
    }
}
