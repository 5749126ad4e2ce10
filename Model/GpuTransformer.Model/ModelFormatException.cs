namespace GpuTransformer.Model;

/// <summary>
/// A model file (weights, config.json, generation_config.json, tokenizer file) is malformed or uses something
/// this library does not support. The message names the file and the field at fault.
/// </summary>
public sealed class ModelFormatException : Exception
{
    /// <summary>Creates an exception with a plain message and no file or field.</summary>
    public ModelFormatException()
        : base("A model file is malformed.")
    {
    }

    /// <summary>Creates an exception with a plain message and no file or field.</summary>
    /// <param name="message">What is wrong.</param>
    public ModelFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a plain message, no file or field, and the underlying cause.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The error that revealed the problem.</param>
    public ModelFormatException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception naming the file and the field at fault.</summary>
    /// <param name="filePath">The file that is malformed.</param>
    /// <param name="field">
    /// The field, tensor, header entry or pickle element at fault; <see langword="null"/> when the whole file is.
    /// </param>
    /// <param name="problem">What is wrong with it.</param>
    /// <param name="innerException">The error that revealed the problem, if any.</param>
    public ModelFormatException(string filePath, string? field, string problem, Exception? innerException = null)
        : base(Compose(filePath, field, problem), innerException)
    {
        FilePath = filePath;
        Field = field;
    }

    /// <summary>The malformed file, or <see langword="null"/> when the exception was created without one.</summary>
    public string? FilePath { get; }

    /// <summary>The field, tensor or element at fault, or <see langword="null"/> when the whole file is.</summary>
    public string? Field { get; }

    private static string Compose(string filePath, string? field, string problem) =>
        field is null
            ? $"Malformed model file '{filePath}': {problem}"
            : $"Malformed model file '{filePath}', field '{field}': {problem}";
}
