namespace GpuTransformer.Tests.Weights;

/// <summary>A scratch folder for corrupted copies of fixtures, deleted when the test ends.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "gpu-transformer-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public string CopyFrom(string sourceDirectory, string fileName)
    {
        string destination = File(fileName);
        System.IO.File.Copy(System.IO.Path.Combine(sourceDirectory, fileName), destination);
        return destination;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // A file still mapped by a failed test must not hide that test's real failure.
        }
    }
}
