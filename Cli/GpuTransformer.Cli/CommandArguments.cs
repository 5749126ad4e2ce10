using System.Globalization;

namespace GpuTransformer.Cli;

/// <summary>
/// The options and positional arguments of one command, in the <c>--name value</c> form. Every option a command reads
/// is taken out; whatever is left at the end is an unknown option and an error.
/// </summary>
public sealed class CommandArguments
{
    private readonly Dictionary<string, string?> options = new(StringComparer.Ordinal);
    private readonly List<string> positional = [];

    /// <summary>Splits <paramref name="args"/>; <paramref name="flags"/> are options that take no value.</summary>
    public CommandArguments(IEnumerable<string> args, params string[] flags)
    {
        using var e = args.GetEnumerator();
        while (e.MoveNext())
        {
            string a = e.Current;
            if (a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2)
            {
                string name = a[2..];
                string? value = null;
                int eq = name.IndexOf('=', StringComparison.Ordinal);
                if (eq >= 0)
                {
                    value = name[(eq + 1)..];
                    name = name[..eq];
                }
                else if (!flags.Contains(name))
                {
                    value = e.MoveNext() ? e.Current : throw new UsageException($"option --{name} needs a value");
                }

                if (!options.TryAdd(name, value))
                {
                    throw new UsageException($"option --{name} given twice");
                }
            }
            else
            {
                positional.Add(a);
            }
        }
    }

    /// <summary>Positional arguments, in order.</summary>
    public IReadOnlyList<string> Positional => positional;

    /// <summary>Takes a string option.</summary>
    public string? String(string name) => options.Remove(name, out var v) ? v : null;

    /// <summary>Takes a flag.</summary>
    public bool Flag(string name) => options.Remove(name);

    /// <summary>Takes an integer option with a lower bound.</summary>
    public int? Int(string name, int min = int.MinValue)
    {
        string? s = String(name);
        if (s is null)
        {
            return null;
        }

        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < min)
        {
            throw new UsageException($"--{name} must be an integer >= {min}, got '{s}'");
        }

        return v;
    }

    /// <summary>Takes a float option.</summary>
    public float? Float(string name)
    {
        string? s = String(name);
        if (s is null)
        {
            return null;
        }

        return float.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out float v) && float.IsFinite(v)
            ? v
            : throw new UsageException($"--{name} must be a number, got '{s}'");
    }

    /// <summary>Takes an option restricted to <paramref name="allowed"/>.</summary>
    public string? Choice(string name, params string[] allowed)
    {
        string? s = String(name);
        return s is null || allowed.Contains(s) ? s : throw new UsageException($"--{name} must be one of {string.Join("|", allowed)}, got '{s}'");
    }

    /// <summary>Fails on any option no one took.</summary>
    public void EnsureAllUsed()
    {
        if (options.Count > 0)
        {
            throw new UsageException($"unknown option --{options.Keys.First()}");
        }
    }
}
