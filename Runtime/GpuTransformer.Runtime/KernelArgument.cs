namespace GpuTransformer.Runtime;

/// <summary>One launch argument: a view (its allocation, element offset and length) or a scalar's bits.</summary>
public readonly struct KernelArgument
{
    internal KernelArgument(KernelElementType type, DeviceMemory? memory, long offset, int length)
    {
        IsView = true;
        ElementType = type;
        Memory = memory;
        Offset = offset;
        Length = length;
    }

    internal KernelArgument(KernelElementType type, ulong bits)
    {
        ElementType = type;
        Bits = bits;
    }

    /// <summary>Whether this is a view.</summary>
    public bool IsView { get; }

    /// <summary>The scalar type or the view's element type.</summary>
    public KernelElementType ElementType { get; }

    /// <summary>The view's allocation; null for an empty view.</summary>
    public DeviceMemory? Memory { get; }

    /// <summary>The view's first element within <see cref="Memory"/>.</summary>
    public long Offset { get; }

    /// <summary>The view's length in elements.</summary>
    public int Length { get; }

    /// <summary>The scalar's bits (an int or float in the low 32 bits).</summary>
    public ulong Bits { get; }

    /// <summary>Bytes per element of <see cref="ElementType"/>.</summary>
    public int ElementSize => ElementType == KernelElementType.Int64 ? 8 : 4;
}
