using System.IO.MemoryMappedFiles;
using System.Text.Json;

namespace GpuTransformer.Model.Weights;

/// <summary>
/// A <c>.safetensors</c> file, memory-mapped read-only. The header is validated completely when the file is opened,
/// so every later read stays inside the mapping.
/// </summary>
/// <remarks>Reads may run concurrently from several threads; <see cref="Dispose"/> must not race with them.</remarks>
public sealed unsafe class SafeTensorsFile : IDisposable, ITensorSource
{
    // The reference implementation refuses headers above 100 MB; a larger value is a corrupt length prefix.
    private const ulong MaxHeaderLength = 100_000_000;
    private const int ConversionChunkElements = 1 << 22;

    private readonly MemoryMappedFile _map;
    private readonly MemoryMappedViewAccessor _view;
    private readonly Dictionary<string, Entry> _entries;
    private readonly List<string> _names;
    private byte* _data;
    private bool _disposed;

    private SafeTensorsFile(
        string filePath,
        MemoryMappedFile map,
        MemoryMappedViewAccessor view,
        byte* data,
        Dictionary<string, Entry> entries,
        List<string> names,
        IReadOnlyDictionary<string, string> metadata)
    {
        FilePath = filePath;
        _map = map;
        _view = view;
        _data = data;
        _entries = entries;
        _names = names;
        Metadata = metadata;
    }

    /// <summary>The path the file was opened from.</summary>
    public string FilePath { get; }

    /// <summary>Tensor names in header order.</summary>
    public IReadOnlyCollection<string> Names => _names;

    /// <summary>
    /// The string entries of the header's <c>__metadata__</c> object (e.g. <c>format: pt</c>); informative only.
    /// </summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Opens and validates a safetensors file.</summary>
    /// <param name="path">Path of the <c>.safetensors</c> file.</param>
    /// <returns>The opened file; dispose it to release the mapping.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ModelFormatException">
    /// The length prefix, header JSON, a dtype, a shape or data offsets are malformed or out of the file's range.
    /// </exception>
    public static SafeTensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new FileNotFoundException($"Safetensors file '{fullPath}' does not exist.", fullPath);
        }

        var stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read);
        MemoryMappedFile? map = null;
        MemoryMappedViewAccessor? view = null;
        bool acquired = false;
        try
        {
            long fileLength = stream.Length;
            if (fileLength < 8)
            {
                throw new ModelFormatException(
                    fullPath,
                    "header length",
                    $"the file is {fileLength} bytes, too short for the 8-byte header length prefix (truncated?).");
            }

            map = MemoryMappedFile.CreateFromFile(
                stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            view = map.CreateViewAccessor(0, fileLength, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            acquired = true;
            byte* start = pointer + view.PointerOffset;

            ulong headerLength = BitConverter.IsLittleEndian
                ? *(ulong*)start
                : System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(*(ulong*)start);
            ulong available = (ulong)fileLength - 8;
            if (headerLength > available)
            {
                throw new ModelFormatException(
                    fullPath,
                    "header length",
                    $"the header claims {headerLength} bytes but only {available} bytes follow the length prefix (truncated or corrupt).");
            }

            if (headerLength > MaxHeaderLength)
            {
                throw new ModelFormatException(
                    fullPath, "header length", $"the header length {headerLength} exceeds the format's limit of {MaxHeaderLength} bytes.");
            }

            var header = new ReadOnlySpan<byte>(start + 8, (int)headerLength);
            long dataLength = (long)(available - headerLength);
            var (entries, names, metadata) = ParseHeader(fullPath, header, dataLength);
            return new SafeTensorsFile(fullPath, map, view, start + 8 + (long)headerLength, entries, names, metadata);
        }
        catch
        {
            if (acquired)
            {
                view!.SafeMemoryMappedViewHandle.ReleasePointer();
            }

            view?.Dispose();
            map?.Dispose();
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Whether the file holds a tensor of this name.</summary>
    /// <param name="name">Tensor name.</param>
    /// <returns><see langword="true"/> when present.</returns>
    public bool Contains(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _entries.ContainsKey(name);
    }

    /// <summary>Returns the dtype and shape of a tensor.</summary>
    /// <param name="name">Tensor name.</param>
    /// <returns>Its description.</returns>
    /// <exception cref="ModelFormatException">No tensor of that name is in the file.</exception>
    public TensorInfo GetInfo(string name) => GetEntry(name).Info;

    /// <summary>Reads a tensor, widened to float32, into <paramref name="destination"/> in row-major order.</summary>
    /// <param name="name">Tensor name.</param>
    /// <param name="destination">Receives exactly <see cref="TensorInfo.ElementCount"/> values.</param>
    /// <exception cref="ModelFormatException">The tensor is missing or its dtype is not F32, F16 or BF16.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> length differs from the element count.</exception>
    /// <exception cref="ObjectDisposedException">The file has been disposed.</exception>
    public void ReadFloat32(string name, Span<float> destination)
    {
        Entry entry = GetEntry(name);
        CheckReadable(entry.Info);
        if (destination.Length != entry.Info.ElementCount)
        {
            throw new ArgumentException(
                $"Tensor '{name}' has {entry.Info.ElementCount} elements but the destination holds {destination.Length}.",
                nameof(destination));
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        ReadConverted(entry, 0, destination);
    }

    /// <summary>
    /// Reads <paramref name="destination"/>.Length elements of a tensor from element <paramref name="firstElement"/>
    /// on, widened to float32: how a large weight is streamed into its device layout a block at a time.
    /// </summary>
    /// <param name="name">Tensor name.</param>
    /// <param name="firstElement">The first element, in row-major order.</param>
    /// <param name="destination">Receives the elements.</param>
    /// <exception cref="ModelFormatException">The tensor is missing or its dtype is not F32, F16 or BF16.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The range is outside the tensor.</exception>
    /// <exception cref="ObjectDisposedException">The file has been disposed.</exception>
    public void ReadFloat32(string name, long firstElement, Span<float> destination)
    {
        Entry entry = GetEntry(name);
        CheckReadable(entry.Info);
        ArgumentOutOfRangeException.ThrowIfNegative(firstElement);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(firstElement + destination.Length, entry.Info.ElementCount, nameof(destination));
        ObjectDisposedException.ThrowIf(_disposed, this);
        ReadConverted(entry, firstElement, destination);
    }

    private void ReadConverted(Entry entry, long firstElement, Span<float> destination)
    {
        int elementSize = TensorDTypes.SizeOf(entry.Info.DType);
        byte* source = _data + entry.Begin + (firstElement * elementSize);
        for (int done = 0; done < destination.Length; done += ConversionChunkElements)
        {
            int count = Math.Min(ConversionChunkElements, destination.Length - done);
            byte* chunk = source + ((long)done * elementSize);
            var bytes = new ReadOnlySpan<byte>(chunk, count * elementSize);
            Float32Conversion.Convert(entry.Info.DType, bytes, destination.Slice(done, count));
            MappedPages.Release(chunk, (long)count * elementSize);
        }
    }

    /// <summary>Reads a tensor, widened to float32, into a new array in row-major order.</summary>
    /// <param name="name">Tensor name.</param>
    /// <returns>The values.</returns>
    /// <exception cref="ModelFormatException">
    /// The tensor is missing, its dtype is not F32, F16 or BF16, or it has more elements than an array can hold.
    /// </exception>
    /// <exception cref="ObjectDisposedException">The file has been disposed.</exception>
    public float[] ReadFloat32(string name)
    {
        TensorInfo info = GetEntry(name).Info;
        CheckReadable(info);
        if (info.ElementCount > Array.MaxLength)
        {
            throw new ModelFormatException(FilePath, name, $"{info.ElementCount} elements do not fit in one float array.");
        }

        var values = new float[info.ElementCount];
        ReadFloat32(name, values);
        return values;
    }

    /// <summary>Releases the memory mapping.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _data = null;
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _map.Dispose();
    }

    private static (Dictionary<string, Entry> Entries, List<string> Names, IReadOnlyDictionary<string, string> Metadata)
        ParseHeader(string path, ReadOnlySpan<byte> header, long dataLength)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header.ToArray());
        }
        catch (JsonException e)
        {
            throw new ModelFormatException(
                path,
                "header",
                $"the JSON header is invalid (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {e.Message}",
                e);
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new ModelFormatException(path, "header", $"the JSON header is a {root.ValueKind}, not an object.");
            }

            var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
            var names = new List<string>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (JsonProperty property in root.EnumerateObject())
            {
                if (property.Name == "__metadata__")
                {
                    ReadMetadata(property.Value, metadata);
                    continue;
                }

                if (entries.ContainsKey(property.Name))
                {
                    throw new ModelFormatException(path, property.Name, "the tensor appears twice in the header.");
                }

                entries.Add(property.Name, ParseEntry(path, property.Name, property.Value, dataLength));
                names.Add(property.Name);
            }

            return (entries, names, metadata);
        }
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata)
    {
        // Metadata is free-form and never affects the tensors, so anything but string pairs is skipped, not fatal.
        if (value.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (JsonProperty item in value.EnumerateObject())
        {
            if (item.Value.ValueKind == JsonValueKind.String)
            {
                metadata[item.Name] = item.Value.GetString()!;
            }
        }
    }

    private static Entry ParseEntry(string path, string name, JsonElement value, long dataLength)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new ModelFormatException(path, name, $"the header entry is a {value.ValueKind}, not an object.");
        }

        if (!value.TryGetProperty("dtype", out JsonElement dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
        {
            throw new ModelFormatException(path, name + ".dtype", "the dtype is missing or not a string.");
        }

        string dtypeName = dtypeElement.GetString()!;
        if (!TensorDTypes.TryParseSafeTensorsName(dtypeName, out TensorDType dtype))
        {
            throw new ModelFormatException(path, name + ".dtype", $"unknown dtype '{dtypeName}'.");
        }

        if (!value.TryGetProperty("shape", out JsonElement shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
        {
            throw new ModelFormatException(path, name + ".shape", "the shape is missing or not an array.");
        }

        var shape = new int[shapeElement.GetArrayLength()];
        int axis = 0;
        foreach (JsonElement dimension in shapeElement.EnumerateArray())
        {
            if (dimension.ValueKind != JsonValueKind.Number || !dimension.TryGetInt32(out int size) || size < 0)
            {
                throw new ModelFormatException(
                    path, name + ".shape", $"dimension {axis} is {dimension.GetRawText()}, not a non-negative 32-bit integer.");
            }

            shape[axis++] = size;
        }

        TensorInfo info;
        try
        {
            info = new TensorInfo(name, dtype, shape);
        }
        catch (ArgumentException e)
        {
            throw new ModelFormatException(path, name + ".shape", e.Message, e);
        }

        if (!value.TryGetProperty("data_offsets", out JsonElement offsets)
            || offsets.ValueKind != JsonValueKind.Array
            || offsets.GetArrayLength() != 2
            || !offsets[0].TryGetUInt64(out ulong begin)
            || !offsets[1].TryGetUInt64(out ulong end))
        {
            throw new ModelFormatException(
                path, name + ".data_offsets", "data_offsets is missing or not a pair of non-negative integers.");
        }

        if (begin > end || end > (ulong)dataLength)
        {
            throw new ModelFormatException(
                path,
                name + ".data_offsets",
                $"[{begin}, {end}] is not a range inside the {dataLength}-byte data section (truncated or corrupt).");
        }

        ulong expectedBytes;
        try
        {
            expectedBytes = checked((ulong)info.ElementCount * (ulong)TensorDTypes.SizeOf(dtype));
        }
        catch (OverflowException e)
        {
            throw new ModelFormatException(path, name + ".shape", "the tensor's byte size overflows 64 bits.", e);
        }

        if (end - begin != expectedBytes)
        {
            throw new ModelFormatException(
                path,
                name + ".data_offsets",
                $"[{begin}, {end}] spans {end - begin} bytes but shape {info.FormatShape()} of {dtypeName} needs {expectedBytes}.");
        }

        return new Entry(info, (long)begin);
    }

    private Entry GetEntry(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!_entries.TryGetValue(name, out Entry? entry))
        {
            throw new ModelFormatException(FilePath, name, "no tensor of this name is in the file.");
        }

        return entry;
    }

    private void CheckReadable(TensorInfo info)
    {
        if (!TensorDTypes.IsReadableAsFloat32(info.DType))
        {
            throw new ModelFormatException(
                FilePath, info.Name, $"dtype {info.DType} cannot be read as float32 weights (supported: F32, F16, BF16).");
        }
    }

    private sealed record Entry(TensorInfo Info, long Begin);
}
