using System.IO.Compression;
using GpuTransformer.Model;
using GpuTransformer.Model.Weights;
using Xunit;

namespace GpuTransformer.Tests.Weights;

public sealed class PyTorchCheckpointBadInputTests
{
    [Theory]
    [InlineData("os", "system")]
    [InlineData("builtins", "eval")]
    [InlineData("posix", "system")]
    [InlineData("subprocess", "Popen")]
    [InlineData("torch", "load")]
    [InlineData("collections", "defaultdict")]
    public void PickleNamingAnyOtherGlobalIsRefused(string module, string name)
    {
        using var temp = new TempDirectory();
        string path = temp.File("pytorch_model.bin");
        string marker = temp.File("pwned");

        // The classic payload: GLOBAL module.name, ("touch <marker>",), REDUCE, wrapped in an otherwise valid zip.
        new TorchZipBuilder()
            .Proto()
            .Global(module, name)
            .Unicode($"touch {marker}")
            .Op(0x85)
            .Op((byte)'R')
            .Op((byte)'.')
            .Storage("0", new byte[4])
            .WriteZip(path);

        var error = Assert.Throws<ModelFormatException>(() => WeightStore.Open(temp.Path));
        Assert.Equal(path, error.FilePath);
        Assert.Contains($"{module}.{name}", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{module}.{name}", error.Field, StringComparison.Ordinal);
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public void GlobalHiddenInsideAValidStateDictIsRefused()
    {
        using var temp = new TempDirectory();
        string path = temp.File("pytorch_model.bin");
        new TorchZipBuilder()
            .Proto()
            .Op((byte)'}')
            .Op((byte)'(')
            .Unicode("w")
            .Tensor("FloatStorage", "0", 1, 0, [1], [1])
            .Unicode("evil")
            .Global("builtins", "exec").Unicode("print(1)").Op(0x85).Op((byte)'R')
            .Op((byte)'u')
            .Op((byte)'.')
            .Storage("0", SafeTensorsWriter.Floats(1))
            .WriteZip(path);

        var error = Assert.Throws<ModelFormatException>(() => PyTorchCheckpoint.Open(path));
        Assert.Contains("builtins.exec", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnsupportedStorageTypeIsReportedAsDType()
    {
        using var temp = new TempDirectory();
        string path = temp.File("pytorch_model.bin");
        new TorchZipBuilder()
            .Proto().Op((byte)'}').Op((byte)'(')
            .Unicode("ids").Tensor("LongStorage", "0", 2, 0, [2], [1])
            .Op((byte)'u').Op((byte)'.')
            .Storage("0", new byte[16])
            .WriteZip(path);

        using var checkpoint = PyTorchCheckpoint.Open(path);
        Assert.Equal(TensorDType.I64, checkpoint.GetInfo("ids").DType);
        var error = Assert.Throws<ModelFormatException>(() => checkpoint.ReadFloat32("ids"));
        Assert.Equal("ids", error.Field);
        Assert.Contains("I64", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.2)]
    [InlineData(0.5)]
    [InlineData(0.98)]
    public void TruncatedZipIsRejected(double keep)
    {
        using var temp = new TempDirectory();
        byte[] original = File.ReadAllBytes(Path.Combine(WeightTestData.TinyMarian, "pytorch_model.bin"));
        string path = temp.File("pytorch_model.bin");
        File.WriteAllBytes(path, original[..(int)(original.Length * keep)]);

        var error = Assert.Throws<ModelFormatException>(() => WeightStore.Open(temp.Path));
        Assert.Equal(path, error.FilePath);
        Assert.Equal("zip", error.Field);
    }

    [Fact]
    public void CorruptStorageEntryIsRejectedWhenRead()
    {
        using var temp = new TempDirectory();
        string path = temp.File("pytorch_model.bin");
        var builder = TorchZipBuilder.StateDict("w", [1, 2, 3, 4], 0, [4], [1]);
        builder.WriteZip(path);

        // Replace the storage with one too short for the element count its persistent id declares.
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Update))
        {
            ZipArchiveEntry entry = zip.GetEntry("archive/data/0")!;
            entry.Delete();
            using Stream stream = zip.CreateEntry("archive/data/0", CompressionLevel.NoCompression).Open();
            stream.Write(new byte[6]);
        }

        var error = Assert.Throws<ModelFormatException>(() => PyTorchCheckpoint.Open(path));
        Assert.Equal("archive/data/0", error.Field);
        Assert.Contains("6 bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingStorageEntryIsRejected()
    {
        using var temp = new TempDirectory();
        string path = temp.File("pytorch_model.bin");
        new TorchZipBuilder()
            .Proto().Op((byte)'}').Op((byte)'(')
            .Unicode("w").Tensor("FloatStorage", "7", 1, 0, [1], [1])
            .Op((byte)'u').Op((byte)'.')
            .WriteZip(path);

        var error = Assert.Throws<ModelFormatException>(() => PyTorchCheckpoint.Open(path));
        Assert.Equal("archive/data/7", error.Field);
    }

    [Fact]
    public void ViewOutsideItsStorageIsRejected()
    {
        using var temp = new TempDirectory();
        string path = temp.File("pytorch_model.bin");
        TorchZipBuilder.StateDict("w", [1, 2, 3, 4], offset: 2, size: [2, 2], stride: [2, 1]).WriteZip(path);

        var error = Assert.Throws<ModelFormatException>(() => PyTorchCheckpoint.Open(path));
        Assert.Equal("w", error.Field);
        Assert.Contains("reaches element 5 of a storage with 4 elements", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ZipWithoutDataPklIsRejected()
    {
        using var temp = new TempDirectory();
        string path = temp.File("pytorch_model.bin");
        TorchZipBuilder.StateDict("w", [1], 0, [1], [1]).WriteZip(path, includePickle: false);

        var error = Assert.Throws<ModelFormatException>(() => WeightStore.Open(temp.Path));
        Assert.Equal(path, error.FilePath);
        Assert.Equal("data.pkl", error.Field);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(40)]
    [InlineData(-1)]
    public void TruncatedPickleIsRejected(int keep)
    {
        using var temp = new TempDirectory();
        string path = temp.File("pytorch_model.bin");
        var valid = TorchZipBuilder.StateDict("w", [1, 2], 0, [2], [1]);
        byte[] pickle = valid.PickleBytes;
        new TorchZipBuilder()
            .Raw(pickle[..(keep > 0 ? keep : pickle.Length + keep)])
            .Storage("0", SafeTensorsWriter.Floats(1, 2))
            .WriteZip(path);

        var error = Assert.Throws<ModelFormatException>(() => PyTorchCheckpoint.Open(path));
        Assert.Equal("data.pkl", error.Field);
        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownOpcodeIsRejected()
    {
        using var temp = new TempDirectory();
        string path = temp.File("pytorch_model.bin");
        new TorchZipBuilder().Proto().Op((byte)'i').Raw("os\nsystem\n"u8.ToArray()).Op((byte)'.').WriteZip(path);

        var error = Assert.Throws<ModelFormatException>(() => PyTorchCheckpoint.Open(path));
        Assert.Contains("opcode 0x69", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NonZipFileIsRejected()
    {
        using var temp = new TempDirectory();
        string path = temp.File("pytorch_model.bin");
        File.WriteAllBytes(path, [0x80, 0x02, (byte)'}', (byte)'.']);
        var error = Assert.Throws<ModelFormatException>(() => PyTorchCheckpoint.Open(path));
        Assert.Contains("not a zip", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GarbageAfterZipMagicIsRejected()
    {
        using var temp = new TempDirectory();
        string path = temp.File("pytorch_model.bin");
        var bytes = new byte[4096];
        new Random(7).NextBytes(bytes);
        "PK\u0003\u0004"u8.CopyTo(bytes);
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<ModelFormatException>(() => PyTorchCheckpoint.Open(path));
        Assert.Equal("zip", error.Field);
    }
}
