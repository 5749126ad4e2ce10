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

        if (stdin is not null && inputFile is null)
        {
            while (stdin.ReadLine() is { } line)
            {
                yield return line;
            }

            yield break;
        }

        // Lines are split on bytes and decoded one by one, so a bad byte sequence is reported at its own line.
        using var stream = new BufferedStream(inputFile is null ? Console.OpenStandardInput() : File.OpenRead(inputFile), 1 << 16);
        string name = inputFile ?? "standard input";
        var bytes = new List<byte>(256);
        int number = 0;
        while (true)
        {
            int b = stream.ReadByte();
            if (b == '\n' || (b < 0 && bytes.Count > 0))
            {
                number++;
                yield return Decode(bytes, name, number);
                bytes.Clear();
            }
            else if (b < 0)
            {
                yield break;
            }
            else
            {
                bytes.Add((byte)b);
            }
        }
    }

    private static string Decode(List<byte> bytes, string name, int number)
    {
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes);
        if (number == 1 && span.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]))
        {
            span = span[3..];
        }

        if (span.Length > 0 && span[^1] == '\r')
        {
            span = span[..^1];
        }

        try
        {
            return StrictUtf8.GetString(span);
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidDataException($"{name}: line {number} is not valid UTF-8", e);
        }
    }

    /// <summary>The output writer: <c>--output FILE</c> or standard output, UTF-8 without a byte-order mark.</summary>
    public static TextWriter OpenOutput(string? outputFile)
    {
        var stream = outputFile is null ? Console.OpenStandardOutput() : File.Create(outputFile);
        return new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = false, NewLine = "\n" };
    }
}
