using System.Runtime.CompilerServices;

namespace GpuTransformer.Runtime;

/// <summary>
/// The arguments of one launch, built on the stack by a generated launcher (no allocation per launch) and read by
/// the backend when it sets kernel arguments.
/// </summary>
public struct KernelArguments
{
    /// <summary>The most arguments one kernel may take.</summary>
    public const int Capacity = 32;

    private Items items;
    private int count;

    /// <summary>Arguments added so far.</summary>
    public readonly int Count => count;

    /// <summary>The argument at <paramref name="index"/>.</summary>
    /// <param name="index">From 0 to <see cref="Count"/> - 1.</param>
    public readonly KernelArgument this[int index] => (uint)index < (uint)count ? items[index] : throw new ArgumentOutOfRangeException(nameof(index));

    /// <summary>Adds a view of <see langword="float"/>.</summary>
    /// <param name="view">The view.</param>
    public void Add(ArrayView<float> view) => AddView(KernelElementType.Float32, view.Memory, view.Offset, view.Length, view.IsEmpty);

    /// <summary>Adds a view of <see langword="int"/>.</summary>
    /// <param name="view">The view.</param>
    public void Add(ArrayView<int> view) => AddView(KernelElementType.Int32, view.Memory, view.Offset, view.Length, view.IsEmpty);

    /// <summary>Adds a view of <see langword="uint"/>.</summary>
    /// <param name="view">The view.</param>
    public void Add(ArrayView<uint> view) => AddView(KernelElementType.UInt32, view.Memory, view.Offset, view.Length, view.IsEmpty);

    /// <summary>Adds a view of <see langword="long"/>.</summary>
    /// <param name="view">The view.</param>
    public void Add(ArrayView<long> view) => AddView(KernelElementType.Int64, view.Memory, view.Offset, view.Length, view.IsEmpty);

    /// <summary>Adds an <see langword="int"/>.</summary>
    /// <param name="value">The value.</param>
    public void Add(int value) => Push(new KernelArgument(KernelElementType.Int32, (uint)value));

    /// <summary>Adds a <see langword="uint"/>.</summary>
    /// <param name="value">The value.</param>
    public void Add(uint value) => Push(new KernelArgument(KernelElementType.UInt32, value));

    /// <summary>Adds a <see langword="long"/>.</summary>
    /// <param name="value">The value.</param>
    public void Add(long value) => Push(new KernelArgument(KernelElementType.Int64, (ulong)value));

    /// <summary>Adds a <see langword="float"/>.</summary>
    /// <param name="value">The value.</param>
    public void Add(float value) => Push(new KernelArgument(KernelElementType.Float32, BitConverter.SingleToUInt32Bits(value)));

    private void AddView(KernelElementType type, DeviceMemory? memory, long offset, int length, bool empty)
    {
        if (!empty && memory is null)
        {
            throw new ArgumentException("a kernel argument must be a view of a MemoryBuffer (shared or private memory exists only inside a kernel)");
        }

        Push(new KernelArgument(type, memory, offset, length));
    }

    private void Push(KernelArgument argument)
    {
        if (count == Capacity)
        {
            throw new InvalidOperationException($"a kernel takes at most {Capacity} arguments");
        }

        items[count++] = argument;
    }

    [InlineArray(Capacity)]
    private struct Items
    {
        private KernelArgument element;
    }
}
