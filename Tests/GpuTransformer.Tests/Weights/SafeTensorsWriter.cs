using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace GpuTransformer.Tests.Weights;

/// <summary>Writes small safetensors files by hand so tests control every header byte.</summary>
internal static class SafeTensorsWriter
{
    public static void Write(string path, params (string Name, string DType, int[] Shape, byte[] Data)[] tensors)
    {
        var header = new Dictionary<string, object> { ["__metadata__"] = new Dictionary<string, string> { ["format"] = "pt" } };
        long offset = 0;
        foreach (var (name, dtype, shape, data) in tensors)
        {
            header[name] = new { dtype, shape, data_offsets = new[] { offset, offset + data.Length } };
            offset += data.Length;
        }

        WriteRaw(path, JsonSerializer.Serialize(header), tensors.SelectMany(t => t.Data).ToArray());
    }

    public static void WriteRaw(string path, string headerJson, byte[] data, ulong? claimedHeaderLength = null)
    {
        byte[] header = Encoding.UTF8.GetBytes(headerJson);
        using var stream = System.IO.File.Create(path);
        Span<byte> prefix = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, claimedHeaderLength ?? (ulong)header.Length);
        stream.Write(prefix);
        stream.Write(header);
        stream.Write(data);
    }

    public static byte[] Floats(params float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        }

        return bytes;
    }
}
