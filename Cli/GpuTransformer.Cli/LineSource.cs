using System.Text;

namespace GpuTransformer.Cli;

/// <summary>
/// The input lines of a command: the positional texts if any, else <c>--input FILE</c>, else standard input.
/// Input must be UTF-8; a bad byte sequence is an error naming the line, never a silent U+FFFD.
/// </summary>
public static class LineSource
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Reads the lines lazily, so that long files stream.</summary>
    public static IEnumerable<string> Read(IReadOnlyList<string> positional, string? inputFile, TextReader? stdin = null)
    {
        if (positional.Count > 0)
        {
            foreach (string text in positional)
            {
                yield return text;
            }

            yield break;
        }

        if (inputFile is not null && !File.Exists(inputFile))
        {
            throw new FileNotFoundException($"input file '{inputFile}' does not exist", inputFile);
        }

        using var reader = stdin is not null && inputFile is null
            ? null
            : new StreamReader(inputFile is null ? Console.OpenStandardInput() : File.OpenRead(inputFile), StrictUtf8, detectEncodingFromByteOrderMarks: true);
        TextReader source = reader ?? stdin!;
        string name = inputFile ?? "standard input";
        int number = 0;
        while (true)
        {
            string? line;
            try
            {
                line = source.ReadLine();
            }
            catch (DecoderFallbackException e)
            {
                throw new InvalidDataException($"{name}: line {number + 1} is not valid UTF-8", e);
            }

            if (line is null)
            {
                yield break;
            }

            number++;
            yield return line;
        }
    }

    /// <summary>The output writer: <c>--output FILE</c> or standard output, UTF-8 without a byte-order mark.</summary>
    public static TextWriter OpenOutput(string? outputFile)
    {
        var stream = outputFile is null ? Console.OpenStandardOutput() : File.Create(outputFile);
        return new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = false, NewLine = "\n" };
    }
}
