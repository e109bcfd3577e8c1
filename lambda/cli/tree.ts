export interface TreeNode {
  readonly label: string;
  readonly children?: readonly TreeNode[];
}

/** A tree as notation prints it (internal/tree): the root alone, then `├── `/`└── ` branches. */
export function renderTree(root: TreeNode): string {
  const lines = [root.label];
  const walk = (nodes: readonly TreeNode[], prefix: string) => {
    nodes.forEach((node, index) => {
      const last = index === nodes.length - 1;
      lines.push(`${prefix}${last ? '└── ' : '├── '}${node.label}`);
      if (node.children) walk(node.children, `${prefix}${last ? '    ' : '│   '}`);
    });
  };
  walk(root.children ?? [], '');
  return `${lines.join('\n')}\n`;
}
