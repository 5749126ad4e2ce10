using System.Buffers.Binary;
using GpuTransformer.Model;
using GpuTransformer.Model.Weights;
using Xunit;

namespace GpuTransformer.Tests.Weights;

public sealed class SafeTensorsBadInputTests
{
    private static readonly string Fixture = Path.Combine(WeightTestData.TinyMarian, "model.safetensors");

    public static TheoryData<string, string> TruncationPoints => new()
    {
        { "empty", "header length" },
        { "prefix:3", "header length" },
        { "prefix:7", "header length" },
        { "header:1", "header length" },
        { "header:half", "header length" },
        { "data:1", ".data_offsets" },
        { "data:half", ".data_offsets" },
        { "data:last", ".data_offsets" },
    };

    [Theory]
    [MemberData(nameof(TruncationPoints))]
    public void TruncatedFileIsRejectedNamingFileAndField(string cut, string expectedField)
    {
        byte[] original = File.ReadAllBytes(Fixture);
        long headerEnd = 8 + BinaryPrimitives.ReadInt64LittleEndian(original);
        int length = cut.Split(':') switch
        {
            ["empty"] => 0,
            ["prefix", var n] => int.Parse(n),
            ["header", "half"] => (int)(8 + headerEnd) / 2,
            ["header", var n] => 8 + int.Parse(n),
            ["data", "half"] => (int)(headerEnd + original.Length) / 2,
            ["data", "last"] => original.Length - 1,
            ["data", var n] => (int)headerEnd + int.Parse(n),
            _ => throw new ArgumentException(cut),
        };

        using var temp = new TempDirectory();
        string path = temp.File("model.safetensors");
        File.WriteAllBytes(path, original[..length]);

        var error = Assert.Throws<ModelFormatException>(() => SafeTensorsFile.Open(path));
        Assert.Equal(path, error.FilePath);
        Assert.Contains(expectedField, error.Field, StringComparison.Ordinal);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HeaderLengthLargerThanFileIsRejected()
    {
        using var temp = new TempDirectory();
        string path = temp.File("big.safetensors");
        SafeTensorsWriter.WriteRaw(path, "{}", [], claimedHeaderLength: 1UL << 40);
        var error = Assert.Throws<ModelFormatException>(() => SafeTensorsFile.Open(path));
        Assert.Equal("header length", error.Field);
        Assert.Contains("1099511627776", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidHeaderJsonIsRejectedWithPosition()
    {
        using var temp = new TempDirectory();
        string path = temp.File("json.safetensors");
        SafeTensorsWriter.WriteRaw(path, "{\"w\": {\"dtype\": \"F32\",, }", new byte[4]);
        var error = Assert.Throws<ModelFormatException>(() => SafeTensorsFile.Open(path));
        Assert.Equal("header", error.Field);
        Assert.Contains("line 1", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[0, 400]", "not a range inside the 16-byte data section")]
    [InlineData("[12, 8]", "not a range")]
    [InlineData("[-4, 12]", "not a pair of non-negative integers")]
    [InlineData("[0]", "not a pair")]
    [InlineData("\"0,16\"", "not a pair")]
    public void DataOffsetsOutOfRangeAreRejected(string offsets, string expected)
    {
        using var temp = new TempDirectory();
        string path = temp.File("offsets.safetensors");
        SafeTensorsWriter.WriteRaw(path, $"{{\"w\": {{\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": {offsets}}}}}", new byte[16]);
        var error = Assert.Throws<ModelFormatException>(() => SafeTensorsFile.Open(path));
        Assert.Equal("w.data_offsets", error.Field);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ShapeDisagreeingWithOffsetsIsRejected()
    {
        using var temp = new TempDirectory();
        string path = temp.File("size.safetensors");
        SafeTensorsWriter.WriteRaw(path, "{\"w\": {\"dtype\": \"F32\", \"shape\": [2, 3], \"data_offsets\": [0, 16]}}", new byte[16]);
        var error = Assert.Throws<ModelFormatException>(() => SafeTensorsFile.Open(path));
        Assert.Equal("w.data_offsets", error.Field);
        Assert.Contains("shape [2, 3] of F32 needs 24", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("[-1, 4]")]
    [InlineData("[2.5]")]
    [InlineData("[4294967296]")]
    [InlineData("\"4\"")]
    public void MalformedShapeIsRejected(string shape)
    {
        using var temp = new TempDirectory();
        string path = temp.File("shape.safetensors");
        SafeTensorsWriter.WriteRaw(path, $"{{\"w\": {{\"dtype\": \"F32\", \"shape\": {shape}, \"data_offsets\": [0, 16]}}}}", new byte[16]);
        var error = Assert.Throws<ModelFormatException>(() => SafeTensorsFile.Open(path));
        Assert.Equal("w.shape", error.Field);
    }

    [Fact]
    public void ShapeWhoseElementCountOverflowsIsRejected()
    {
        using var temp = new TempDirectory();
        string path = temp.File("overflow.safetensors");
        SafeTensorsWriter.WriteRaw(
            path, "{\"w\": {\"dtype\": \"F32\", \"shape\": [2147483647, 2147483647, 2147483647], \"data_offsets\": [0, 16]}}", new byte[16]);
        var error = Assert.Throws<ModelFormatException>(() => SafeTensorsFile.Open(path));
        Assert.Equal("w.shape", error.Field);
    }

    [Fact]
    public void UnknownDTypeIsRejectedAtOpen()
    {
        using var temp = new TempDirectory();
        string path = temp.File("dtype.safetensors");
        SafeTensorsWriter.WriteRaw(path, "{\"w\": {\"dtype\": \"Q7\", \"shape\": [4], \"data_offsets\": [0, 4]}}", new byte[4]);
        var error = Assert.Throws<ModelFormatException>(() => SafeTensorsFile.Open(path));
        Assert.Equal("w.dtype", error.Field);
        Assert.Contains("'Q7'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("I64", TensorDType.I64, 8)]
    [InlineData("F64", TensorDType.F64, 8)]
    [InlineData("I32", TensorDType.I32, 4)]
    [InlineData("U8", TensorDType.U8, 1)]
    [InlineData("BOOL", TensorDType.Bool, 1)]
    public void NonFloatDTypeIsDescribedButRefusedAsFloat32(string dtype, TensorDType expected, int size)
    {
        using var temp = new TempDirectory();
        string path = temp.File("model.safetensors");
        SafeTensorsWriter.Write(path, ("ids", dtype, [3], new byte[3 * size]), ("w", "F32", [1], SafeTensorsWriter.Floats(1.5f)));

        using WeightStore store = WeightStore.Open(temp.Path);
        Assert.Equal(expected, store.GetInfo("ids").DType);
        Assert.Equal([1.5f], store.ReadFloat32("w"));
        var error = Assert.Throws<ModelFormatException>(() => store.ReadFloat32("ids"));
        Assert.Equal("ids", error.Field);
        Assert.Equal(path, error.FilePath);
        Assert.Contains(expected.ToString(), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void DuplicateTensorNameIsRejected()
    {
        using var temp = new TempDirectory();
        string path = temp.File("dup.safetensors");
        SafeTensorsWriter.WriteRaw(
            path,
            "{\"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}, \"w\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}",
            new byte[8]);
        var error = Assert.Throws<ModelFormatException>(() => SafeTensorsFile.Open(path));
        Assert.Equal("w", error.Field);
    }

    [Fact]
    public void ValidHandWrittenFileRoundTripsValuesAndMetadata()
    {
        using var temp = new TempDirectory();
        string path = temp.File("ok.safetensors");
        SafeTensorsWriter.Write(path, ("a", "F32", [2, 2], SafeTensorsWriter.Floats(1, -2, 3.25f, float.MaxValue)), ("empty", "F32", [0, 3], []));
        using var file = SafeTensorsFile.Open(path);
        Assert.Equal(["a", "empty"], file.Names);
        Assert.Equal("pt", file.Metadata["format"]);
        Assert.Equal([1f, -2, 3.25f, float.MaxValue], file.ReadFloat32("a"));
        Assert.Empty(file.ReadFloat32("empty"));
        Assert.Throws<ArgumentException>(() => file.ReadFloat32("a", new float[3]));
    }

    [Fact]
    public void ReadAfterDisposeThrowsObjectDisposed()
    {
        var file = SafeTensorsFile.Open(Fixture);
        file.Dispose();
        Assert.Throws<ObjectDisposedException>(() => file.ReadFloat32("final_logits_bias"));
    }

    [Fact]
    public void HeaderThatIsNotAnObjectIsRejected()
    {
        using var temp = new TempDirectory();
        string path = temp.File("array.safetensors");
        SafeTensorsWriter.WriteRaw(path, "[1, 2]", []);
        Assert.Equal("header", Assert.Throws<ModelFormatException>(() => SafeTensorsFile.Open(path)).Field);
        File.WriteAllBytes(path, [2, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFE]);
        Assert.Equal("header", Assert.Throws<ModelFormatException>(() => SafeTensorsFile.Open(path)).Field);
    }
}
