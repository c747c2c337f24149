// The regulator pages: paths, the role they need and their nav labels.
export default []
