namespace GpuTransformer.Tokenizer;

/// <summary>Python <c>str</c> operations whose notion of whitespace differs from .NET's.</summary>
internal static class PythonText
{
    // Python's str.isspace also counts the ASCII separators U+001C..U+001F, which .NET does not.
    public static bool IsSpace(char c) => char.IsWhiteSpace(c) || (c >= '\u001c' && c <= '\u001f');

    public static string Strip(string text) => RStrip(LStrip(text));

    public static string LStrip(string text)
    {
        int start = 0;
        while (start < text.Length && IsSpace(text[start]))
        {
            start++;
        }

        return start == 0 ? text : text[start..];
    }

    public static string RStrip(string text)
    {
        int end = text.Length;
        while (end > 0 && IsSpace(text[end - 1]))
        {
            end--;
        }

        return end == text.Length ? text : text[..end];
    }
}
