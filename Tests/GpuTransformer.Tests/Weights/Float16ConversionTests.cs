using System.Buffers.Binary;
using System.Text.Json;
using GpuTransformer.Model.Weights;
using Xunit;

namespace GpuTransformer.Tests.Weights;

public sealed class Float16ConversionTests
{
    [Fact]
    public void EveryHalfBitPatternWidensLikeSystemHalf()
    {
        using var temp = new TempDirectory();
        string path = temp.File("all-halves.safetensors");
        var data = new byte[65536 * 2];
        for (int bits = 0; bits < 65536; bits++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(bits * 2), (ushort)bits);
        }

        // 65536 = a multiple of the vector width; the odd-sized second tensor exercises the scalar tail.
        SafeTensorsWriter.Write(path, ("all", "F16", [256, 256], data), ("tail", "F16", [37], data[..74]));

        using var file = SafeTensorsFile.Open(path);
        float[] all = file.ReadFloat32("all");
        float[] tail = file.ReadFloat32("tail");
        for (int bits = 0; bits < 65536; bits++)
        {
            float expected = (float)BitConverter.UInt16BitsToHalf((ushort)bits);
            AssertSameFloat(expected, all[bits], bits);
            if (bits < tail.Length)
            {
                AssertSameFloat(expected, tail[bits], bits);
            }
        }
    }

    [Fact]
    public void BFloat16WidensToTheUpperHalfOfFloat32()
    {
        using var temp = new TempDirectory();
        string path = temp.File("bf16.safetensors");
        ushort[] patterns = [0x0000, 0x8000, 0x3F80, 0xBF80, 0x7F80, 0xFF80, 0x0001, 0x4049, 0xC2F7, 0x7F7F, 0x3E20, 0x1234, 0xABCD, 0x7FC0, 0x0080, 0x8001, 0x4000];
        var data = new byte[patterns.Length * 2];
        for (int i = 0; i < patterns.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(i * 2), patterns[i]);
        }

        SafeTensorsWriter.Write(path, ("b", "BF16", [patterns.Length], data));
        using var file = SafeTensorsFile.Open(path);
        float[] values = file.ReadFloat32("b");
        for (int i = 0; i < patterns.Length; i++)
        {
            Assert.Equal((uint)patterns[i] << 16, BitConverter.SingleToUInt32Bits(values[i]));
        }
    }

    [Theory]
    [InlineData("model.shared.weight")]
    [InlineData("model.encoder.layers.1.fc1.weight")]
    [InlineData("model.encoder.layers.0.self_attn.q_proj.weight")]
    [InlineData("model.decoder.layers.2.fc2.bias")]
    public void Multi30kHalfTensorsMatchIndependentlyDecodedBits(string name)
    {
        string path = Path.Combine(WeightTestData.Multi30k, "model.safetensors");
        byte[] raw = File.ReadAllBytes(path);
        long headerLength = BinaryPrimitives.ReadInt64LittleEndian(raw);
        using JsonDocument header = JsonDocument.Parse(raw.AsMemory(8, (int)headerLength));
        JsonElement entry = header.RootElement.GetProperty(name);
        Assert.Equal("F16", entry.GetProperty("dtype").GetString());
        int begin = 8 + (int)headerLength + entry.GetProperty("data_offsets")[0].GetInt32();

        using WeightStore store = WeightStore.Open(WeightTestData.Multi30k);
        Assert.Equal(TensorDType.F16, store.GetInfo(name).DType);
        float[] values = store.ReadFloat32(name);
        Assert.Equal(store.GetInfo(name).ElementCount, values.Length);
        int nonZero = 0;
        for (int i = 0; i < values.Length; i++)
        {
            Half half = BitConverter.ToHalf(raw, begin + (2 * i));
            AssertSameFloat((float)half, values[i], i);
            nonZero += values[i] != 0 ? 1 : 0;
        }

        Assert.True(nonZero > values.Length / 2, "the tensor should be mostly non-zero random weights");
    }

    private static void AssertSameFloat(float expected, float actual, int index)
    {
        if (float.IsNaN(expected))
        {
            Assert.True(float.IsNaN(actual), $"element {index}: expected NaN, got {actual:R}");
            return;
        }

        Assert.True(
            BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual),
            $"element {index}: expected {expected:R} (0x{BitConverter.SingleToInt32Bits(expected):X8}), got {actual:R} (0x{BitConverter.SingleToInt32Bits(actual):X8})");
    }
}
