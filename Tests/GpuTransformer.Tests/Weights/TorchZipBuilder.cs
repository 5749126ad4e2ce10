using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace GpuTransformer.Tests.Weights;

/// <summary>
/// Builds torch.save-style zips (folder/data.pkl, folder/data/&lt;key&gt;, folder/version) with pickle bytes written
/// opcode by opcode, so tests can produce both well-formed and hostile checkpoints.
/// </summary>
internal sealed class TorchZipBuilder
{
    private readonly MemoryStream _pickle = new();
    private readonly Dictionary<string, byte[]> _storages = [];

    public TorchZipBuilder Op(byte opcode)
    {
        _pickle.WriteByte(opcode);
        return this;
    }

    public TorchZipBuilder Proto() => Op(0x80).Op(2);

    public TorchZipBuilder Global(string module, string name) => Op((byte)'c').Raw(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));

    public TorchZipBuilder Unicode(string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        Op((byte)'X');
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
        return Raw(length.ToArray()).Raw(bytes);
    }

    public TorchZipBuilder Int(int value)
    {
        Op((byte)'J');
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, value);
        return Raw(bytes.ToArray());
    }

    public TorchZipBuilder IntTuple(params int[] values)
    {
        Op((byte)'(');
        foreach (int value in values)
        {
            Int(value);
        }

        return Op((byte)'t');
    }

    public TorchZipBuilder Raw(byte[] bytes)
    {
        _pickle.Write(bytes);
        return this;
    }

    /// <summary>Emits <c>_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())</c> as torch does.</summary>
    public TorchZipBuilder Tensor(string storageType, string key, int numel, int offset, int[] size, int[] stride)
    {
        Global("torch._utils", "_rebuild_tensor_v2");
        Op((byte)'(');
        Op((byte)'(').Unicode("storage").Global("torch", storageType).Unicode(key).Unicode("cpu").Int(numel).Op((byte)'t');
        Op((byte)'Q');
        Int(offset).IntTuple(size).IntTuple(stride);
        Op(0x89);
        Global("collections", "OrderedDict").Op((byte)')').Op((byte)'R');
        Op((byte)'t');
        return Op((byte)'R');
    }

    public TorchZipBuilder Storage(string key, byte[] data)
    {
        _storages[key] = data;
        return this;
    }

    public byte[] PickleBytes => _pickle.ToArray();

    /// <summary>A well-formed state dict <c>{name: tensor}</c> of float32 storage <c>"0"</c>.</summary>
    public static TorchZipBuilder StateDict(string name, float[] storage, int offset, int[] size, int[] stride) =>
        new TorchZipBuilder()
            .Proto()
            .Op((byte)'}')
            .Op((byte)'(')
            .Unicode(name)
            .Tensor("FloatStorage", "0", storage.Length, offset, size, stride)
            .Op((byte)'u')
            .Op((byte)'.')
            .Storage("0", SafeTensorsWriter.Floats(storage));

    public void WriteZip(string path, string folder = "archive", bool includePickle = true)
    {
        using var file = File.Create(path);
        using var zip = new ZipArchive(file, ZipArchiveMode.Create);
        if (includePickle)
        {
            Add(zip, folder + "/data.pkl", PickleBytes);
        }

        foreach ((string key, byte[] data) in _storages)
        {
            Add(zip, $"{folder}/data/{key}", data);
        }

        Add(zip, folder + "/version", Encoding.ASCII.GetBytes("3\n"));
    }

    private static void Add(ZipArchive zip, string name, byte[] data)
    {
        ZipArchiveEntry entry = zip.CreateEntry(name, CompressionLevel.NoCompression);
        using Stream stream = entry.Open();
        stream.Write(data);
    }
}
