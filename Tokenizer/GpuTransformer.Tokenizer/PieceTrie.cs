namespace GpuTransformer.Tokenizer;

/// <summary>A byte-level trie from UTF-8 piece bytes to piece ids, for prefix searches over normalized text.</summary>
internal sealed class PieceTrie
{
    private readonly Dictionary<long, int> _children = [];
    private readonly List<int> _values = [-1];

    public int Count { get; private set; }

    public void Add(ReadOnlySpan<byte> key, int id)
    {
        int node = 0;
        foreach (byte b in key)
        {
            long edge = ((long)node << 8) | b;
            if (!_children.TryGetValue(edge, out int child))
            {
                child = _values.Count;
                _values.Add(-1);
                _children.Add(edge, child);
            }

            node = child;
        }

        _values[node] = id;
        Count++;
    }

    /// <summary>Moves from <paramref name="node"/> along <paramref name="b"/>; -1 when there is no such edge.</summary>
    public int Step(int node, byte b) => _children.TryGetValue(((long)node << 8) | b, out int child) ? child : -1;

    /// <summary>The piece id that ends at <paramref name="node"/>, or -1.</summary>
    public int ValueAt(int node) => _values[node];

    /// <summary>Length of the longest key that is a prefix of <paramref name="text"/>, 0 when none.</summary>
    public int LongestPrefix(ReadOnlySpan<byte> text)
    {
        int node = 0;
        int longest = 0;
        for (int i = 0; i < text.Length; i++)
        {
            node = Step(node, text[i]);
            if (node < 0)
            {
                break;
            }

            if (_values[node] >= 0)
            {
                longest = i + 1;
            }
        }

        return longest;
    }
}
