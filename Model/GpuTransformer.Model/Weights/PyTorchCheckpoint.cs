using System.IO.Compression;

namespace GpuTransformer.Model.Weights;

/// <summary>
/// A <c>pytorch_model.bin</c> written by <c>torch.save</c> (PyTorch 1.6 and later): a zip whose single top folder
/// holds <c>data.pkl</c> and one <c>data/&lt;key&gt;</c> entry per storage. The pickle is read by a restricted
/// unpickler that accepts only the globals a state dict uses (OrderedDict, tensor and parameter rebuild, storage
/// types) and refuses any other, so no code in the file is ever run.
/// </summary>
/// <remarks>Reads are serialised internally, so several threads may read; <see cref="Dispose"/> must not race with them.</remarks>
public sealed class PyTorchCheckpoint : IDisposable, ITensorSource
{
    private const int ChunkBytes = 1 << 22;

    private readonly ZipArchive _archive;
    private readonly string _folder;
    private readonly Dictionary<string, Entry> _entries;
    private readonly List<string> _names;
    private readonly Lock _gate = new();
    private bool _disposed;

    private PyTorchCheckpoint(string filePath, ZipArchive archive, string folder, Dictionary<string, Entry> entries, List<string> names)
    {
        FilePath = filePath;
        _archive = archive;
        _folder = folder;
        _entries = entries;
        _names = names;
    }

    /// <summary>The path the checkpoint was opened from.</summary>
    public string FilePath { get; }

    /// <summary>Tensor names in the order the state dict was saved.</summary>
    public IReadOnlyCollection<string> Names => _names;

    /// <summary>Opens a checkpoint, unpickles and validates its state dict; tensor data is read on demand.</summary>
    /// <param name="path">Path of the <c>pytorch_model.bin</c>.</param>
    /// <returns>The opened checkpoint; dispose it to close the file.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ModelFormatException">
    /// The file is not a zip (or is a corrupt or truncated one), has no <c>*/data.pkl</c>, the pickle is malformed or
    /// names a global outside the allow-list (the message names the global), a value is not a tensor, or a tensor's
    /// view lies outside its storage.
    /// </exception>
    public static PyTorchCheckpoint Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new FileNotFoundException($"PyTorch checkpoint '{fullPath}' does not exist.", fullPath);
        }

        var stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read);
        ZipArchive? archive = null;
        try
        {
            if (!StartsWithZipMagic(stream))
            {
                throw new ModelFormatException(
                    fullPath,
                    null,
                    "not a zip archive; only the zip format of torch.save (PyTorch 1.6 and later) is supported.");
            }

            try
            {
                archive = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: false);
            }
            catch (InvalidDataException e)
            {
                throw new ModelFormatException(fullPath, "zip", $"the zip archive is corrupt or truncated: {e.Message}", e);
            }

            ZipArchiveEntry pickleEntry = FindDataPickle(fullPath, archive);
            string folder = pickleEntry.FullName[..^"data.pkl".Length];
            CheckByteOrder(fullPath, archive, folder);
            byte[] pickle = ReadWholeEntry(fullPath, pickleEntry);
            object? root = RestrictedUnpickler.Load(fullPath, pickle);
            var (entries, names) = BuildEntries(fullPath, archive, folder, root);
            return new PyTorchCheckpoint(fullPath, archive, folder, entries, names);
        }
        catch
        {
            if (archive is null)
            {
                stream.Dispose();
            }
            else
            {
                archive.Dispose();
            }

            throw;
        }
    }

    /// <summary>Whether the checkpoint holds a tensor of this name.</summary>
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

    /// <summary>
    /// Reads a tensor, widened to float32, into <paramref name="destination"/> in row-major order; strided views are
    /// gathered.
    /// </summary>
    /// <param name="name">Tensor name.</param>
    /// <param name="destination">Receives exactly <see cref="TensorInfo.ElementCount"/> values.</param>
    /// <exception cref="ModelFormatException">
    /// The tensor is missing, its dtype is not F32, F16 or BF16, or its storage entry is corrupt or truncated.
    /// </exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> length differs from the element count.</exception>
    /// <exception cref="ObjectDisposedException">The checkpoint has been disposed.</exception>
    public void ReadFloat32(string name, Span<float> destination)
    {
        Entry entry = GetEntry(name);
        TensorInfo info = entry.Info;
        if (!TensorDTypes.IsReadableAsFloat32(info.DType))
        {
            throw new ModelFormatException(
                FilePath, name, $"dtype {info.DType} cannot be read as float32 weights (supported: F32, F16, BF16).");
        }

        if (destination.Length != info.ElementCount)
        {
            throw new ArgumentException(
                $"Tensor '{name}' has {info.ElementCount} elements but the destination holds {destination.Length}.",
                nameof(destination));
        }

        if (destination.IsEmpty)
        {
            return;
        }

        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            try
            {
                if (entry.IsContiguous)
                {
                    ReadConverted(entry, entry.Offset, destination);
                }
                else
                {
                    if (entry.Extent > Array.MaxLength)
                    {
                        throw new ModelFormatException(
                            FilePath, name, $"the strided view spans {entry.Extent} storage elements, too many to gather.");
                    }

                    var span = new float[entry.Extent];
                    ReadConverted(entry, entry.Offset, span);
                    Gather(span, entry.Sizes, entry.Strides, destination);
                }
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                throw new ModelFormatException(
                    FilePath, $"{_folder}data/{entry.StorageKey}", $"the storage of tensor '{name}' cannot be read: {e.Message}", e);
            }
        }
    }

    /// <summary>Reads a tensor, widened to float32, into a new array in row-major order.</summary>
    /// <param name="name">Tensor name.</param>
    /// <returns>The values.</returns>
    /// <exception cref="ModelFormatException">
    /// The tensor is missing, its dtype is not F32, F16 or BF16, its storage is corrupt, or it has more elements than
    /// an array can hold.
    /// </exception>
    /// <exception cref="ObjectDisposedException">The checkpoint has been disposed.</exception>
    public float[] ReadFloat32(string name)
    {
        TensorInfo info = GetEntry(name).Info;
        if (info.ElementCount > Array.MaxLength)
        {
            throw new ModelFormatException(FilePath, name, $"{info.ElementCount} elements do not fit in one float array.");
        }

        var values = new float[info.ElementCount];
        ReadFloat32(name, values);
        return values;
    }

    /// <summary>Closes the file.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _archive.Dispose();
        }
    }

    private static bool StartsWithZipMagic(FileStream stream)
    {
        Span<byte> magic = stackalloc byte[4];
        int read = stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false);
        stream.Position = 0;
        return read == 4 && magic[0] == (byte)'P' && magic[1] == (byte)'K' && magic[2] == 3 && magic[3] == 4;
    }

    private static ZipArchiveEntry FindDataPickle(string path, ZipArchive archive)
    {
        // The top folder is named after the file torch.save wrote (e.g. "archive", "pytorch_model"), so it is found
        // rather than assumed.
        List<ZipArchiveEntry> candidates = archive.Entries
            .Where(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.IndexOf('/') == e.FullName.Length - "/data.pkl".Length)
            .ToList();
        return candidates.Count switch
        {
            1 => candidates[0],
            0 => throw new ModelFormatException(
                path, "data.pkl", "the zip has no '<folder>/data.pkl' entry, so it is not a torch.save checkpoint."),
            _ => throw new ModelFormatException(
                path, "data.pkl", $"the zip has {candidates.Count} '<folder>/data.pkl' entries; expected one."),
        };
    }

    private static void CheckByteOrder(string path, ZipArchive archive, string folder)
    {
        ZipArchiveEntry? entry = archive.GetEntry(folder + "byteorder");
        if (entry is null)
        {
            return;
        }

        string order = System.Text.Encoding.ASCII.GetString(ReadWholeEntry(path, entry)).Trim();
        if (order != "little")
        {
            throw new ModelFormatException(path, folder + "byteorder", $"byte order '{order}' is not supported; expected 'little'.");
        }
    }

    private static byte[] ReadWholeEntry(string path, ZipArchiveEntry entry)
    {
        if (entry.Length > Array.MaxLength)
        {
            throw new ModelFormatException(path, entry.FullName, $"the entry is {entry.Length} bytes, too large to read.");
        }

        try
        {
            var bytes = new byte[entry.Length];
            using Stream stream = entry.Open();
            stream.ReadExactly(bytes);
            return bytes;
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            throw new ModelFormatException(path, entry.FullName, $"the entry is corrupt or truncated: {e.Message}", e);
        }
    }

    private static (Dictionary<string, Entry> Entries, List<string> Names) BuildEntries(
        string path, ZipArchive archive, string folder, object? root)
    {
        if (root is not RestrictedUnpickler.PickleDict dict)
        {
            throw new ModelFormatException(path, "data.pkl", "the pickled object is not a state dict (a dictionary of tensors).");
        }

        var entries = new Dictionary<string, Entry>(StringComparer.Ordinal);
        var names = new List<string>();
        foreach ((object key, object? value) in dict.Items)
        {
            if (key is not string name)
            {
                throw new ModelFormatException(path, "data.pkl", $"a state dict key is {key}, not a string.");
            }

            if (value is not RestrictedUnpickler.TensorRef tensor)
            {
                throw new ModelFormatException(path, name, "the state dict value is not a tensor.");
            }

            entries.Add(name, CreateEntry(path, archive, folder, name, tensor));
            names.Add(name);
        }

        return (entries, names);
    }

    private static Entry CreateEntry(string path, ZipArchive archive, string folder, string name, RestrictedUnpickler.TensorRef tensor)
    {
        RestrictedUnpickler.StorageRef storage = tensor.Storage;
        TensorDType dtype = storage.Type.DType
            ?? throw new ModelFormatException(path, name, $"storage type torch.{storage.Type.Name} has no supported element type.");
        TensorInfo info;
        try
        {
            info = new TensorInfo(name, dtype, tensor.Sizes);
        }
        catch (ArgumentException e)
        {
            throw new ModelFormatException(path, name, e.Message, e);
        }

        int elementSize = TensorDTypes.SizeOf(dtype);
        string entryName = folder + "data/" + storage.Key;
        ZipArchiveEntry zipEntry = archive.GetEntry(entryName)
            ?? throw new ModelFormatException(path, entryName, $"the storage of tensor '{name}' is missing from the zip.");

        long expectedBytes;
        long extent = 0;
        try
        {
            expectedBytes = checked(storage.Numel * elementSize);
            if (info.ElementCount > 0)
            {
                long last = tensor.Offset;
                for (int axis = 0; axis < tensor.Sizes.Length; axis++)
                {
                    last = checked(last + ((tensor.Sizes[axis] - 1L) * tensor.Strides[axis]));
                }

                extent = checked(last + 1 - tensor.Offset);
                if (last >= storage.Numel)
                {
                    throw new ModelFormatException(
                        path,
                        name,
                        $"the view (offset {tensor.Offset}, shape {info.FormatShape()}, strides [{string.Join(", ", tensor.Strides)}]) "
                        + $"reaches element {last} of a storage with {storage.Numel} elements.");
                }
            }
        }
        catch (OverflowException e)
        {
            throw new ModelFormatException(path, name, "the tensor's size, strides or offset overflow 64 bits.", e);
        }

        if (zipEntry.Length != expectedBytes)
        {
            throw new ModelFormatException(
                path,
                entryName,
                $"the storage holds {zipEntry.Length} bytes but {storage.Numel} elements of {dtype} need {expectedBytes}.");
        }

        return new Entry(info, storage.Key, tensor.Offset, extent, tensor.Sizes, tensor.Strides, IsContiguous(tensor.Sizes, tensor.Strides));
    }

    private static bool IsContiguous(int[] sizes, long[] strides)
    {
        long expected = 1;
        for (int axis = sizes.Length - 1; axis >= 0; axis--)
        {
            // A dimension of size 1 is never stepped over, so its stride is irrelevant (torch leaves it arbitrary).
            if (sizes[axis] != 1 && strides[axis] != expected)
            {
                return false;
            }

            expected *= sizes[axis];
        }

        return true;
    }

    private static void Gather(ReadOnlySpan<float> source, int[] sizes, long[] strides, Span<float> destination)
    {
        int rank = sizes.Length;
        Span<int> index = rank <= 16 ? stackalloc int[rank] : new int[rank];
        long sourceOffset = 0;
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = source[(int)sourceOffset];
            for (int axis = rank - 1; axis >= 0; axis--)
            {
                if (++index[axis] < sizes[axis])
                {
                    sourceOffset += strides[axis];
                    break;
                }

                sourceOffset -= (sizes[axis] - 1L) * strides[axis];
                index[axis] = 0;
            }
        }
    }

    private void ReadConverted(Entry entry, long elementOffset, Span<float> destination)
    {
        int elementSize = TensorDTypes.SizeOf(entry.Info.DType);
        ZipArchiveEntry zipEntry = _archive.GetEntry(_folder + "data/" + entry.StorageKey)!;
        using Stream stream = zipEntry.Open();
        Skip(stream, elementOffset * elementSize);
        byte[] buffer = new byte[Math.Min(ChunkBytes, (long)destination.Length * elementSize)];
        int chunkElements = buffer.Length / elementSize;
        for (int done = 0; done < destination.Length; done += chunkElements)
        {
            int count = Math.Min(chunkElements, destination.Length - done);
            Span<byte> bytes = buffer.AsSpan(0, count * elementSize);
            stream.ReadExactly(bytes);
            Float32Conversion.Convert(entry.Info.DType, bytes, destination.Slice(done, count));
        }
    }

    private static void Skip(Stream stream, long bytes)
    {
        if (bytes == 0)
        {
            return;
        }

        if (stream.CanSeek)
        {
            stream.Seek(bytes, SeekOrigin.Current);
            return;
        }

        byte[] scratch = new byte[(int)Math.Min(bytes, 1 << 16)];
        while (bytes > 0)
        {
            int read = stream.Read(scratch, 0, (int)Math.Min(bytes, scratch.Length));
            if (read == 0)
            {
                throw new EndOfStreamException("the storage entry ends before the tensor's offset.");
            }

            bytes -= read;
        }
    }

    private Entry GetEntry(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _entries.TryGetValue(name, out Entry? entry)
            ? entry
            : throw new ModelFormatException(FilePath, name, "no tensor of this name is in the file.");
    }

    private sealed record Entry(
        TensorInfo Info, string StorageKey, long Offset, long Extent, int[] Sizes, long[] Strides, bool IsContiguous);
}
