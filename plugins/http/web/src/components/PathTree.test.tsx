import { describe, expect, it, vi } from 'vitest';
import { fireEvent, render, screen } from '@testing-library/react';
import '../i18n';
import { PathTree, build_tree } from './PathTree';

const stats = {
  cv: { total: 3, running: 1, finished: 2, failed: 0 },
  'cv/yolo': { total: 2, running: 1, finished: 1, failed: 0 },
  'cv/yolo/v8': { total: 1, running: 1, finished: 0, failed: 0 },
  nlp: { total: 1, running: 0, finished: 0, failed: 1 },
};

describe('build_tree', () => {
  it('nests paths under their ancestors with their counts', () => {
    const roots = build_tree(stats);
    expect(roots.map((r) => r.name)).toEqual(['cv', 'nlp']);
    expect(roots[0].children[0].path).toBe('cv/yolo');
    expect(roots[0].children[0].children[0].stats.total).toBe(1);
  });
  it('creates missing ancestors with zero counts', () => {
    const roots = build_tree({}, ['a/b/c']);
    expect(roots[0].path).toBe('a');
    expect(roots[0].stats.total).toBe(0);
    expect(roots[0].children[0].children[0].path).toBe('a/b/c');
  });
});

describe('PathTree', () => {
  it('shows counts, selects a path, and filters', () => {
    const on_select = vi.fn();
    render(<PathTree stats={stats} paths={Object.keys(stats)} loading={false} selected={null} onSelect={on_select} total={4} />);
    expect(screen.getByText('cv')).toBeInTheDocument();
    expect(screen.getByText('yolo')).toBeInTheDocument();
    fireEvent.click(screen.getByText('nlp'));
    expect(on_select).toHaveBeenCalledWith('nlp');
    fireEvent.change(screen.getByPlaceholderText('Filter paths'), { target: { value: 'v8' } });
    expect(screen.queryByText('nlp')).not.toBeInTheDocument();
    expect(screen.getByText('v8')).toBeInTheDocument();
    fireEvent.click(screen.getByTestId('tree-all'));
    expect(on_select).toHaveBeenLastCalledWith(null);
  });
});
