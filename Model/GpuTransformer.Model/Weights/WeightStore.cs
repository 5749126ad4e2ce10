namespace GpuTransformer.Model.Weights;

/// <summary>
/// The weights of one model, read from <c>model.safetensors</c> or <c>pytorch_model.bin</c>: what the architectures
/// use to fetch tensors by their Hugging Face names, with shape checks that name the tensor and file on mismatch.
/// </summary>
public sealed class WeightStore : IDisposable
{
    /// <summary>The safetensors file name Hugging Face's <c>save_pretrained</c> writes.</summary>
    public const string SafeTensorsFileName = "model.safetensors";

    /// <summary>The PyTorch checkpoint file name Hugging Face's <c>save_pretrained</c> writes without safetensors.</summary>
    public const string PyTorchFileName = "pytorch_model.bin";

    private readonly ITensorSource _source;

    // The tensor a partial read of a non-mappable source was last served from (see ReadFloat32 with an offset).
    private string? _wholeName;
    private float[]? _whole;

    private WeightStore(ITensorSource source)
    {
        _source = source;
    }

    /// <summary>The weight file being read.</summary>
    public string SourceFile => _source.FilePath;

    /// <summary>All tensor names in the file.</summary>
    public IReadOnlyCollection<string> Names => _source.Names;

    /// <summary>
    /// Opens the weights of a Hugging Face model folder, preferring <c>model.safetensors</c> (as
    /// <c>from_pretrained</c> does) and falling back to <c>pytorch_model.bin</c>.
    /// </summary>
    /// <param name="modelDirectory">The model folder.</param>
    /// <returns>The opened weights; dispose them to release the file.</returns>
    /// <exception cref="ArgumentException"><paramref name="modelDirectory"/> is null or empty.</exception>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">Neither weight file is in the folder.</exception>
    /// <exception cref="ModelFormatException">The weight file is malformed.</exception>
    public static WeightStore Open(string modelDirectory)
    {
        ArgumentException.ThrowIfNullOrEmpty(modelDirectory);
        string directory = Path.GetFullPath(modelDirectory);
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"Model folder '{directory}' does not exist.");
        }

        string safeTensors = Path.Combine(directory, SafeTensorsFileName);
        if (File.Exists(safeTensors))
        {
            return new WeightStore(SafeTensorsFile.Open(safeTensors));
        }

        string pyTorch = Path.Combine(directory, PyTorchFileName);
        if (File.Exists(pyTorch))
        {
            return new WeightStore(PyTorchCheckpoint.Open(pyTorch));
        }

        throw new FileNotFoundException(
            $"Model folder '{directory}' has no weights: expected '{SafeTensorsFileName}' or '{PyTorchFileName}'.",
            safeTensors);
    }

    /// <summary>
    /// Opens one weight file; the format is chosen by its content (a zip is a PyTorch checkpoint, anything else is
    /// read as safetensors).
    /// </summary>
    /// <param name="path">The weight file.</param>
    /// <returns>The opened weights; dispose them to release the file.</returns>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="ModelFormatException">The file is malformed.</exception>
    public static WeightStore OpenFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string fullPath = Path.GetFullPath(path);
        if (!File.Exists(fullPath))
        {
            throw new FileNotFoundException($"Weight file '{fullPath}' does not exist.", fullPath);
        }

        return IsZip(fullPath)
            ? new WeightStore(PyTorchCheckpoint.Open(fullPath))
            : new WeightStore(SafeTensorsFile.Open(fullPath));
    }

    /// <summary>Whether the file holds a tensor of this name.</summary>
    /// <param name="name">Tensor name.</param>
    /// <returns><see langword="true"/> when present.</returns>
    public bool Contains(string name) => _source.Contains(name);

    /// <summary>Returns the dtype and shape of a tensor.</summary>
    /// <param name="name">Tensor name.</param>
    /// <returns>Its description.</returns>
    /// <exception cref="ModelFormatException">No tensor of that name is in the file; the message names both.</exception>
    public TensorInfo GetInfo(string name) => _source.GetInfo(name);

    /// <summary>Reads a tensor, widened to float32, in row-major order.</summary>
    /// <param name="name">Tensor name.</param>
    /// <returns>The values.</returns>
    /// <exception cref="ModelFormatException">The tensor is missing, its dtype is not a float type, or its data is malformed.</exception>
    public float[] ReadFloat32(string name)
    {
        TensorInfo info = _source.GetInfo(name);
        if (info.ElementCount > Array.MaxLength)
        {
            throw new ModelFormatException(SourceFile, name, $"{info.ElementCount} elements do not fit in one float array.");
        }

        var values = new float[info.ElementCount];
        _source.ReadFloat32(name, values);
        return values;
    }

    /// <summary>Reads a tensor that must have exactly the given shape, widened to float32, in row-major order.</summary>
    /// <param name="name">Tensor name.</param>
    /// <param name="expectedShape">The shape the architecture requires, outermost first.</param>
    /// <returns>The values.</returns>
    /// <exception cref="ModelFormatException">
    /// The tensor is missing, its shape differs (the message names the tensor, the expected and the actual shape),
    /// its dtype is not a float type, or its data is malformed.
    /// </exception>
    public float[] ReadFloat32(string name, params int[] expectedShape)
    {
        ArgumentNullException.ThrowIfNull(expectedShape);
        TensorInfo info = _source.GetInfo(name);
        if (!info.HasShape(expectedShape))
        {
            throw new ModelFormatException(
                SourceFile,
                name,
                $"expected shape {TensorInfo.FormatShape(expectedShape)} but the file has {info.FormatShape()}.");
        }

        return ReadFloat32(name);
    }

    /// <summary>Reads a tensor, widened to float32, into <paramref name="destination"/> in row-major order.</summary>
    /// <param name="name">Tensor name.</param>
    /// <param name="destination">Receives exactly <see cref="TensorInfo.ElementCount"/> values.</param>
    /// <exception cref="ModelFormatException">The tensor is missing, its dtype is not a float type, or its data is malformed.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> length differs from the element count.</exception>
    public void ReadFloat32(string name, Span<float> destination) => _source.ReadFloat32(name, destination);

    /// <summary>
    /// Reads part of a tensor, widened to float32: <paramref name="destination"/>.Length elements from element
    /// <paramref name="firstElement"/> on, in row-major order. A safetensors file is read in place (and the mapped
    /// pages released after conversion); a PyTorch checkpoint's tensor is read whole once and kept until another
    /// tensor is read this way.
    /// </summary>
    /// <param name="name">Tensor name.</param>
    /// <param name="firstElement">The first element wanted.</param>
    /// <param name="destination">Receives the elements.</param>
    /// <exception cref="ModelFormatException">The tensor is missing, its dtype is not a float type, or its data is malformed.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The range is outside the tensor.</exception>
    public void ReadFloat32(string name, long firstElement, Span<float> destination)
    {
        if (_source is SafeTensorsFile safeTensors)
        {
            safeTensors.ReadFloat32(name, firstElement, destination);
            return;
        }

        if (_wholeName != name)
        {
            _whole = null;
            _whole = ReadFloat32(name);
            _wholeName = name;
        }

        ArgumentOutOfRangeException.ThrowIfNegative(firstElement);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(firstElement + destination.Length, _whole!.Length, nameof(destination));
        _whole.AsSpan((int)firstElement, destination.Length).CopyTo(destination);
    }

    /// <summary>Releases the underlying file.</summary>
    public void Dispose()
    {
        _whole = null;
        _source.Dispose();
    }

    private static bool IsZip(string path)
    {
        Span<byte> magic = stackalloc byte[4];
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        return stream.ReadAtLeast(magic, 4, throwOnEndOfStream: false) == 4
            && magic[0] == (byte)'P' && magic[1] == (byte)'K' && magic[2] == 3 && magic[3] == 4;
    }
}
